"""A key's rights as the inline policy of its IAM user (the accounts model, storage/accounts.py).
Pure functions: the rights come in as plain data, the policy goes out as JSON.

Measured on radosgw 20.2.4 (docs/accounts-model.md):
- ``aws:CurrentTime`` is the request's time cut to whole seconds. A Deny with
  ``DateGreaterThanEquals T`` (T in whole seconds) refuses from T on; ``DateGreaterThan`` would
  leave one more second. A key's end is rounded up to the next whole second: Ceph refuses it
  within a second after the end Latchkey shows, never before.
- A date RGW cannot parse is accepted by PutUserPolicy and then never matches: a Deny with it
  would never end the key. Every date is written as ``YYYY-MM-DDTHH:MM:SSZ``, the one form
  measured to work, and nothing else reaches a policy.
- In another account's bucket (a grant) or a tenant's, a request needs both that bucket's policy
  and the key's own to allow it; a key that may go "anywhere" therefore allows its actions on
  ``*`` (``arn:aws:s3:::*`` does not match a tenant's bucket) and is let in only where a bucket
  policy names it, its project or the public.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

VERSION = "2012-10-17"

READ = [
    "s3:ListAllMyBuckets",
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:GetObjectTagging",
    "s3:ListBucket",
    "s3:ListBucketVersions",
    "s3:ListBucketMultipartUploads",
    "s3:ListMultipartUploadParts",
    "s3:GetBucketLocation",
    "s3:GetBucketVersioning",
    "s3:GetBucketCORS",
    "s3:GetBucketTagging",
    "s3:GetLifecycleConfiguration",
    "s3:GetBucketAcl",
    "s3:GetBucketRequestPayment",
]
WRITE_OBJECTS = [
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:AbortMultipartUpload",
    "s3:PutObjectTagging",
    "s3:DeleteObjectTagging",
]
# What a member (not a manager) may do to the project's buckets themselves, as on the tenant model:
# make one, and change the settings clients change (DeleteBucketCors and DeleteBucketTagging are
# these actions too). Policies, ACLs and deleting buckets stay with managers and the portal.
WRITE_BUCKETS = ["s3:CreateBucket", "s3:PutBucketVersioning", "s3:PutBucketCORS", "s3:PutBucketTagging"]
ACTIONS = {
    "read": READ,
    "write": READ + WRITE_OBJECTS + WRITE_BUCKETS,
    "manage": ["s3:*"],
}
# A scoped key's level in one bucket; it never makes or changes buckets.
LEVEL_ACTIONS = {"read": [a for a in READ if a != "s3:ListAllMyBuckets"]}
LEVEL_ACTIONS["readwrite"] = LEVEL_ACTIONS["read"] + WRITE_OBJECTS
DENY = {"read": ["s3:*"], "write": ["s3:Put*", "s3:Delete*", "s3:AbortMultipartUpload", "s3:RestoreObject"]}


@dataclass(frozen=True)
class Reach:
    """A bucket a key limited to chosen buckets reaches: at ``level``, from ``cidrs`` (empty:
    anywhere), until ``expires_at`` (None: no end of its own)."""

    bucket: str
    level: str  # "read" or "readwrite"
    cidrs: tuple[str, ...] = ()
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Narrowing:
    """A bucket of the project where the key's owner may do less than the key's actions: ``tier``
    ("read": everything, "write": writes) is denied from ``start`` (a ``stamp``; "": now) except
    from ``allowed_from``."""

    bucket: str
    tier: str
    start: str = ""
    allowed_from: tuple[str, ...] = ()


@dataclass(frozen=True)
class KeyRights:
    """What a key may do and until when. ``anywhere``: ``actions`` wherever it is let in (its
    project's buckets, less ``narrowed``, and buckets that grant to it); otherwise only ``reach``."""

    ends_at: datetime
    actions: str = "read"  # "read", "write" or "manage"
    anywhere: bool = True
    narrowed: tuple[Narrowing, ...] = ()
    reach: tuple[Reach, ...] = ()


def stamp(at: datetime, *, round_up: bool = False) -> str:
    """A time as the one form RGW is known to parse; ``round_up`` to the next whole second."""
    at = at.astimezone(UTC)
    if round_up and at.microsecond:
        at = datetime.fromtimestamp(math.ceil(at.timestamp()), tz=UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def _checked_stamp(value: str) -> str:
    if not STAMP.match(value):  # a form RGW does not parse would make the Deny never apply
        raise ValueError(f"not a time RGW parses: {value!r}")
    return value


def rights_json(rights: KeyRights) -> dict[str, Any]:
    """The rights without their end, as stored with the key (its end is the key's own)."""
    return {
        "actions": rights.actions,
        "anywhere": rights.anywhere,
        "narrowed": [[n.bucket, n.tier, n.start, list(n.allowed_from)] for n in rights.narrowed],
        "reach": [
            [r.bucket, r.level, list(r.cidrs), r.expires_at.isoformat() if r.expires_at else None] for r in rights.reach
        ],
    }


def rights_from_json(data: dict[str, Any], *, ends_at: datetime) -> KeyRights:
    return KeyRights(
        ends_at=ends_at,
        actions=str(data["actions"]),
        anywhere=bool(data["anywhere"]),
        narrowed=tuple(Narrowing(b, t, s, tuple(a)) for b, t, s, a in data["narrowed"]),
        reach=tuple(
            Reach(b, level, tuple(c), datetime.fromisoformat(e) if e else None) for b, level, c, e in data["reach"]
        ),
    )


def _resources(bucket: str) -> list[str]:
    return [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]


def key_policy(rights: KeyRights) -> dict[str, Any]:
    """The inline policy of the key's user: its Allows, the Denies that narrow them, and the end."""
    statements: list[dict[str, Any]] = []
    if rights.anywhere:
        statements.append({"Sid": "rights", "Effect": "Allow", "Action": ACTIONS[rights.actions], "Resource": "*"})
    for n, reach in enumerate(rights.reach):
        statement: dict[str, Any] = {
            "Sid": f"bucket{n}",
            "Effect": "Allow",
            "Action": LEVEL_ACTIONS[reach.level],
            "Resource": _resources(reach.bucket),
        }
        condition: dict[str, Any] = {}
        if reach.cidrs:
            condition["IpAddress"] = {"aws:SourceIp": list(reach.cidrs)}
        if reach.expires_at is not None:
            condition["DateLessThan"] = {"aws:CurrentTime": stamp(reach.expires_at)}
        if condition:
            statement["Condition"] = condition
        statements.append(statement)
    for n, narrowing in enumerate(rights.narrowed):
        statement = {
            "Sid": f"narrow{n}",
            "Effect": "Deny",
            "Action": DENY[narrowing.tier],
            "Resource": _resources(narrowing.bucket),
        }
        condition = {}
        if narrowing.allowed_from:
            condition["NotIpAddress"] = {"aws:SourceIp": list(narrowing.allowed_from)}
        if narrowing.start:
            condition["DateGreaterThan"] = {"aws:CurrentTime": _checked_stamp(narrowing.start)}
        if condition:
            statement["Condition"] = condition
        statements.append(statement)
    statements.append(
        {
            "Sid": "end",
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"DateGreaterThanEquals": {"aws:CurrentTime": stamp(rights.ends_at, round_up=True)}},
        }
    )
    return {"Version": VERSION, "Statement": statements}
