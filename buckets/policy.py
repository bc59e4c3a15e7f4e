"""Latchkey's part of a bucket policy, computed from the database, and its merge with the rest.

Pure functions: no database, no Ceph. ``services.bucket_policy_sync`` feeds them and writes.

How access maps onto what Ceph enforces (principals verified in ../shared/design/ceph-rgw.md):
- The project's own members are subusers of the bucket's owner, so they start with their
  role's access to every bucket. Latchkey narrows it with Deny statements naming the subusers
  (``arn:aws:iam::T:user/T:name``). Managers and deputies are never denied. A grant to a
  member or group that ends adds a Deny from its end (``DateGreaterThan aws:CurrentTime``), so
  Ceph stops honouring it on time even when the task that removes it is late. A member whose
  removal is in progress is listed with no access at all until their keys are gone.
- Other projects (``arn:aws:iam::T2:user/T2``), one user of another project
  (``arn:aws:iam::T2:user/T2:name``) and the public (``*``) get Allow statements; the grantee's
  read-only keys (users of their own in T2, which those principals do not cover) get a second
  Allow that reads only, whatever the grant's level. An expiry
  becomes an ``aws:CurrentTime`` condition, so Ceph itself stops honouring the grant on time.
- CIDR limits are ``aws:SourceIp`` conditions: IpAddress on an Allow, NotIpAddress on a Deny.
- A scoped key is a user of its own in the project's tenant (``arn:aws:iam::T:user/k…``, not
  covered by ``user/T`` nor by a member's Deny: docs/scoped-keys-rgw16.md), so it reaches the
  bucket only through an Allow here: for each reason its owner may reach the bucket, the lower
  of that reason's level and the key's, with that reason's CIDRs and end. Keys sharing all of
  that share one statement (a policy is read on every request: size costs every request). Where
  a key may write, objects it writes belong to its user, so the project's own members get an
  Allow to read objects; their Denies still win over it.
- Every bucket lets the project's members read its settings (``MEMBER_SETTINGS_ACTIONS``):
  radosgw 20 no longer gives them to subusers by their level. And every bucket denies everyone
  the ACLs that would publish it or its objects (``every_bucket``): the public is let in only by
  a manager's public grant.

Every Latchkey statement has a Sid starting with ``SID_PREFIX``; statements without it were
written by people (e.g. ``s3cmd setpolicy``) and are kept as they are, in front of ours.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

SID_PREFIX = "latchkey-"
VERSION = "2012-10-17"

READ_ACTIONS = [
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:ListBucket",
    "s3:ListBucketVersions",
    "s3:GetBucketLocation",
    "s3:ListBucketMultipartUploads",
    "s3:ListMultipartUploadParts",
]
WRITE_ACTIONS = [
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:AbortMultipartUpload",
    "s3:PutObjectTagging",
    "s3:DeleteObjectTagging",
]
PUBLIC_ACTIONS = ["s3:GetObject", "s3:ListBucket"]
# What clients read of a bucket's settings before they work with it (`s3cmd info`, `aws s3api
# get-bucket-location`, region discovery). radosgw 20 refuses them to every subuser below
# `full` unless a policy allows them (16 and 18 allow them by the level alone), so every bucket
# carries this Allow for the project's own members; a member's Deny still wins over it.
MEMBER_SETTINGS_ACTIONS = [
    "s3:GetBucketLocation",
    "s3:GetBucketVersioning",
    "s3:GetBucketCORS",
    "s3:GetLifecycleConfiguration",
    "s3:GetBucketAcl",
    "s3:GetBucketRequestPayment",
]
# What a key of its own user reads (a scoped key, a read-only member's): the objects and the
# settings clients read first, which no level of its own gives it.
KEY_READ_ACTIONS = READ_ACTIONS + [a for a in MEMBER_SETTINGS_ACTIONS if a not in READ_ACTIONS]
# What a member denied "write" must not do: objects and the bucket's own settings alike.
DENY_WRITE = ["s3:Put*", "s3:Delete*", "s3:AbortMultipartUpload", "s3:RestoreObject"]
DENY_ALL = ["s3:*"]

LEVELS = {"none": 0, "read": 1, "readwrite": 2}


@dataclass(frozen=True)
class Member:
    """A member of the bucket's project, as the policy needs them."""

    subuser: str
    privileged: bool  # manager or deputy: keeps full access
    role_writes: bool  # the role may write at all (read-only members cannot, whatever the bucket)


@dataclass(frozen=True)
class MemberSource:
    """One reason a member may reach the bucket: the bucket's rule for all members, or a grant."""

    level: str  # "read" or "readwrite"
    cidrs: tuple[str, ...] = ()  # empty: from anywhere
    expires_at: datetime | None = None  # None: until it is revoked


@dataclass(frozen=True)
class Outside:
    """An Allow grant: another project, one of its users, or the public."""

    grant_id: int
    # None: the public. Several: one user of a project in an RGW account, named by each of their
    # keys (each an IAM user of its own); none yet (no keys): the grant writes no statement.
    principal: str | tuple[str, ...] | None
    level: str
    cidrs: tuple[str, ...] = ()
    expires_at: datetime | None = None
    # The grantee's read-only keys (``principal_key_user`` ARNs): users of their own, which the
    # grant's principal does not cover, so the grant names them itself, for reading only.
    read_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScopedKey:
    """A scoped key that names this bucket (or reads the whole project): its user within the
    tenant, the most its scope gives here, and its owner's reasons to reach the bucket (empty:
    none, e.g. an excluded member or one whose membership is ending)."""

    user: str
    level: str  # "read" or "readwrite"
    sources: tuple[MemberSource, ...] = ()


@dataclass
class BucketRules:
    tenant: str
    bucket: str
    members_access: str  # "readwrite", "read" or "none"
    members: list[Member] = field(default_factory=list)
    sources: dict[str, list[MemberSource]] = field(default_factory=dict)  # subuser → grants
    outside: list[Outside] = field(default_factory=list)
    keys: list[ScopedKey] = field(default_factory=list)


def principal_project(tenant: str) -> str:
    return f"arn:aws:iam::{tenant}:user/{tenant}"


def principal_subuser(tenant: str, subuser: str) -> str:
    return f"arn:aws:iam::{tenant}:user/{tenant}:{subuser}"


def principal_key_user(tenant: str, user: str) -> str:
    return f"arn:aws:iam::{tenant}:user/{user}"


def _resources(bucket: str) -> list[str]:
    return [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]


def _deny_condition(tier: str, sources: list[MemberSource]) -> tuple[bool, tuple[str, ...]]:
    """Whether to deny ``tier`` ("read" = everything, "write"), and from where it stays allowed:
    (False, ()) no deny; (True, ()) deny everywhere; (True, cidrs) deny outside ``cidrs``."""
    needed = LEVELS["readwrite" if tier == "write" else "read"]
    giving = [s for s in sources if LEVELS[s.level] >= needed]
    if any(not s.cidrs for s in giving):
        return False, ()
    return True, tuple(sorted({c for s in giving for c in s.cidrs}))


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def tier_denies(tier: str, sources: list[MemberSource]) -> list[tuple[str, tuple[str, ...]]]:
    """The member's denies for ``tier`` as (from, cidrs): "" = from now, else from that time on.
    At each end of a source, what is left is computed again; the Deny statements are ORed, and a
    later one denies at least what an earlier one does, so at any moment the latest applies."""
    ends = sorted({s.expires_at for s in sources if s.expires_at is not None})
    found: list[tuple[str, tuple[str, ...]]] = []
    for start in [None, *ends]:
        live = [s for s in sources if start is None or s.expires_at is None or s.expires_at > start]
        deny, allowed_from = _deny_condition(tier, live)
        if deny:
            found.append(("" if start is None else _stamp(start), allowed_from))
            if not allowed_from:
                break  # denied everywhere from here on: later ends change nothing
    return found


def _statement(
    sid: str,
    effect: str,
    principal: Any,
    actions: list[str],
    resources: list[str],
    *,
    cidrs: Iterable[str],
    time: tuple[str, str],
) -> dict[str, Any]:
    """One statement; ``cidrs`` limit where from (IpAddress on an Allow, NotIpAddress on a Deny),
    ``time`` is (operator, stamp) on aws:CurrentTime, no condition when the stamp is empty."""
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": effect,
        "Principal": principal,
        "Action": actions,
        "Resource": resources,
    }
    condition: dict[str, Any] = {}
    if cidrs := list(cidrs):
        condition["IpAddress" if effect == "Allow" else "NotIpAddress"] = {"aws:SourceIp": cidrs}
    if time[1]:
        condition[time[0]] = {"aws:CurrentTime": time[1]}
    if condition:
        statement["Condition"] = condition
    return statement


def latchkey_statements(rules: BucketRules) -> list[dict[str, Any]]:
    """The statements Latchkey wants in the bucket's policy, in a stable order."""
    resources = _resources(rules.bucket)
    denies: dict[tuple[str, str, tuple[str, ...]], list[str]] = {}
    base = [MemberSource(rules.members_access)] if rules.members_access != "none" else []
    for member in sorted(rules.members, key=lambda m: m.subuser):
        if member.privileged:
            continue
        sources = base + rules.sources.get(member.subuser, [])
        read = tier_denies("read", sources)
        for start, allowed_from in read:
            denies.setdefault(("read", start, allowed_from), []).append(member.subuser)
        # From when everything is denied everywhere (if ever), a write deny adds nothing.
        all_denied_from = next((start for start, allowed_from in read if not allowed_from), None)
        if member.role_writes:
            for start, allowed_from in tier_denies("write", sources):
                if all_denied_from is None or start < all_denied_from:  # ISO 8601 times sort as text
                    denies.setdefault(("write", start, allowed_from), []).append(member.subuser)
    statements: list[dict[str, Any]] = []
    for n, ((tier, start, cidrs), subusers) in enumerate(sorted(denies.items())):
        statements.append(
            _statement(
                f"{SID_PREFIX}deny-{tier}-{n}",
                "Deny",
                {"AWS": [principal_subuser(rules.tenant, s) for s in subusers]},
                DENY_ALL if tier == "read" else DENY_WRITE,
                resources,
                cidrs=cidrs,
                time=("DateGreaterThan", start),
            )
        )
    for grant in sorted(rules.outside, key=lambda g: g.grant_id):
        if grant.principal is None:
            principal: Any = "*"
            actions = PUBLIC_ACTIONS
        else:
            names = [grant.principal] if isinstance(grant.principal, str) else sorted(grant.principal)
            if not names:
                continue
            principal = {"AWS": names}
            actions = READ_ACTIONS + (WRITE_ACTIONS if grant.level == "readwrite" else [])
        end = "" if grant.expires_at is None else _stamp(grant.expires_at)
        statements.append(
            _statement(
                f"{SID_PREFIX}grant-{grant.grant_id}",
                "Allow",
                principal,
                actions,
                resources,
                cidrs=grant.cidrs,
                time=("DateLessThan", end),
            )
        )
        if grant.read_keys:
            statements.append(
                _statement(
                    f"{SID_PREFIX}grant-{grant.grant_id}-read-keys",
                    "Allow",
                    {"AWS": sorted(grant.read_keys)},
                    KEY_READ_ACTIONS,
                    resources,
                    cidrs=grant.cidrs,
                    time=("DateLessThan", end),
                )
            )
    return statements + _key_statements(rules)


# ACLs that would show objects or the bucket to everyone (or to every Ceph user), and the
# request parts that set them. Publishing is a manager's public grant (a policy statement with
# an end and Latchkey's record), never an ACL a writer attaches: measured on 16, 18 and 20,
# these Denies refuse it to members and managers alike, and refuse nothing else.
PUBLIC_CANNED_ACLS = ["public-read", "public-read-write", "authenticated-read"]
PUBLIC_GRANTEES = ["*AllUsers*", "*AuthenticatedUsers*"]
EVERY_BUCKET_SIDS = (
    f"{SID_PREFIX}members-bucket-settings",
    f"{SID_PREFIX}no-acl-changes",
    f"{SID_PREFIX}no-public-canned-acl",
    f"{SID_PREFIX}no-public-grant-read",
    f"{SID_PREFIX}no-public-grant-full-control",
)


def every_bucket(rules: BucketRules, *, members: bool = True) -> list[dict[str, Any]]:
    """What every bucket's policy carries, whoever may reach it: its members read its settings
    (``members``: unless their keys carry that themselves), and nobody makes it or its objects
    public by ACL."""
    bucket, objects = f"arn:aws:s3:::{rules.bucket}", f"arn:aws:s3:::{rules.bucket}/*"

    def deny(sid: str, actions: list[str], condition: dict[str, Any] | None = None) -> dict[str, Any]:
        statement: dict[str, Any] = {"Sid": f"{SID_PREFIX}{sid}", "Effect": "Deny", "Principal": "*", "Action": actions}
        statement["Resource"] = [bucket, objects] if condition is None else [objects]
        if condition is not None:
            statement["Condition"] = condition
        return statement

    return [
        *([members_settings(rules)] if members else []),
        deny("no-acl-changes", ["s3:PutBucketAcl", "s3:PutObjectAcl", "s3:PutObjectVersionAcl"]),
        deny("no-public-canned-acl", ["s3:PutObject"], {"StringEquals": {"s3:x-amz-acl": PUBLIC_CANNED_ACLS}}),
        deny("no-public-grant-read", ["s3:PutObject"], {"StringLike": {"s3:x-amz-grant-read": PUBLIC_GRANTEES}}),
        deny(
            "no-public-grant-full-control",
            ["s3:PutObject"],
            {"StringLike": {"s3:x-amz-grant-full-control": PUBLIC_GRANTEES}},
        ),
    ]


def members_settings(rules: BucketRules) -> dict[str, Any]:
    """The Allow every bucket carries: its project's members read its settings."""
    return {
        "Sid": f"{SID_PREFIX}members-bucket-settings",
        "Effect": "Allow",
        "Principal": {"AWS": [principal_project(rules.tenant)]},
        "Action": MEMBER_SETTINGS_ACTIONS,
        "Resource": [f"arn:aws:s3:::{rules.bucket}"],
    }


def _key_statements(rules: BucketRules) -> list[dict[str, Any]]:
    grouped: dict[tuple[str, tuple[str, ...], str], list[str]] = {}
    for key in rules.keys:
        for source in key.sources:
            level = min(key.level, source.level, key=LEVELS.__getitem__)
            end = "" if source.expires_at is None else _stamp(source.expires_at)
            users = grouped.setdefault((level, tuple(sorted(source.cidrs)), end), [])
            if key.user not in users:
                users.append(key.user)
    statements: list[dict[str, Any]] = []
    resources = _resources(rules.bucket)
    for n, ((level, cidrs, end), users) in enumerate(sorted(grouped.items())):
        statements.append(
            _statement(
                f"{SID_PREFIX}key-{level}-{n}",
                "Allow",
                {"AWS": [principal_key_user(rules.tenant, u) for u in sorted(users)]},
                KEY_READ_ACTIONS + (WRITE_ACTIONS if level == "readwrite" else []),
                resources,
                cidrs=cidrs,
                time=("DateLessThan", end),
            )
        )
    if any(level == "readwrite" for level, _, _ in grouped):
        statements.append(
            {
                "Sid": f"{SID_PREFIX}members-read-key-objects",
                "Effect": "Allow",
                "Principal": {"AWS": [principal_project(rules.tenant)]},
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": [f"arn:aws:s3:::{rules.bucket}/*"],
            }
        )
    return statements


# What radosgw 18 and 20 both accept as a bucket policy's principal; anything else one of them
# refuses with InvalidArgument, where 16 stored it (measured: docs/operators.md, "Supported Ceph
# releases"; 18 refuses "Service", 20 takes it). Such a statement matches nobody in RGW, and left
# in place it would make every later write of the policy fail after an upgrade, so Latchkey
# leaves it out and tells the bucket's managers.
PRINCIPAL_TYPES = ("AWS", "Federated")
IAM_RESOURCE = re.compile(r"(root|user/.+|role/.+|oidc-provider/.+)")


def principal_problem(value: object) -> str | None:
    """Why radosgw 18/20 would refuse this Principal (or NotPrincipal), or None."""
    if value == "*":
        return None
    if not isinstance(value, dict) or not value:
        return "its principal is neither '*' nor an object"
    for kind, names in value.items():
        if kind not in PRINCIPAL_TYPES:
            return f"the principal type {kind!r} is not one the storage service accepts"
        for name in names if isinstance(names, list) else [names]:
            if not isinstance(name, str):
                return f"the principal {name!r} is not a string"
            parts = name.split(":", 5)
            malformed = len(parts) != 6 or parts[2] != "iam" or not IAM_RESOURCE.fullmatch(parts[5])
            if kind == "AWS" and parts[0] == "arn" and malformed:
                return f"the principal {name!r} is not an IAM ARN the storage service accepts"
    return None


def statement_problem(statement: object) -> str | None:
    """Why the storage service would refuse a policy holding this statement, or None."""
    if not isinstance(statement, dict):
        return "it is not a JSON object"
    for key in ("Principal", "NotPrincipal"):
        if key in statement:
            problem = principal_problem(statement[key])
            if problem:
                return problem
    return None


def reach_problem(statement: object, tenant: str) -> str | None:
    """Why Latchkey will not keep a statement people wrote although Ceph would: an Allow for
    everyone, or for every user of the project's tenant. Either reaches the project's scoped keys
    past their scope (they are users of the tenant), and the first publishes past a manager's
    public grant (with its record and its end). Denies are kept: they only take away."""
    if not isinstance(statement, dict) or statement.get("Effect") != "Allow" or "Principal" not in statement:
        return None
    principal = statement["Principal"]
    names = principal.get("AWS", []) if isinstance(principal, dict) else [principal]
    for name in names if isinstance(names, list) else [names]:
        if name == "*":
            return "it allows everyone: the public is let in by a manager's public grant"
        if isinstance(name, str) and (
            name in (f"arn:aws:iam::{tenant}:root", tenant)
            or name.startswith((f"arn:aws:iam::{tenant}:user/k", f"arn:aws:iam::{tenant}:user/latchkey/"))
            or "*" in name
        ):
            return f"it allows {name!r}, which reaches the project's scoped keys past their scope"
    return None


def left_out_reason(statement: object, tenant: str) -> str | None:
    return statement_problem(statement) or reach_problem(statement, tenant)


# Why all of people's statements go when someone stops managing the project (they may be theirs).
MANAGER_GONE = "written while someone who has since stopped managing the project could change the policy"


def refused_statements(
    policy: dict[str, Any] | None, tenant: str = "", *, keep_people: bool = True
) -> list[dict[str, Any]]:
    """People's statements that Latchkey leaves out of the policy, each with the reason: those
    the storage service would refuse, (given the bucket's ``tenant``) those that reach too far,
    and without ``keep_people`` every one of them."""
    found = []
    for statement in foreign_statements(policy):
        problem = left_out_reason(statement, tenant) if tenant else statement_problem(statement)
        if problem or not keep_people:
            found.append({"statement": statement, "reason": problem or MANAGER_GONE})
    return found


def is_ours(statement: object) -> bool:
    return isinstance(statement, dict) and str(statement.get("Sid", "")).startswith(SID_PREFIX)


def foreign_statements(policy: dict[str, Any] | None) -> list[Any]:
    """The statements people wrote themselves, in their order."""
    if not policy:
        return []
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):  # a single statement may be written without a list
        statements = [statements]
    return [s for s in statements if not is_ours(s)]


def merged_policy(
    current: dict[str, Any] | None, ours: Iterable[dict[str, Any]], *, tenant: str = "", keep_people: bool = True
) -> dict[str, Any] | None:
    """The policy to store: people's statements first, unchanged, then Latchkey's. None when
    nothing is left (the bucket then has no policy at all). People's statements that
    ``refused_statements`` names (with the same arguments) are left out."""
    left_out = [r["statement"] for r in refused_statements(current, tenant, keep_people=keep_people)]
    kept = [s for s in foreign_statements(current) if s not in left_out]
    statements = kept + list(ours)
    if not statements:
        return None
    version = (current or {}).get("Version", VERSION)
    return {"Version": version, "Statement": statements}
