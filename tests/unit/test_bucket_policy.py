"""The policy Latchkey computes for a bucket, as pure functions: no database, no Ceph."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from buckets import policy
from buckets.policy import BucketRules, Member, MemberSource, Outside

T = "t900000001"
BUCKET = "data"
RESOURCES = [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]
# The cast of a project: two privileged members, two members who write, one read-only member.
CAST = [
    Member(subuser="manager", privileged=True, role_writes=True),
    Member(subuser="deputy", privileged=True, role_writes=True),
    Member(subuser="bob", privileged=False, role_writes=True),
    Member(subuser="alice", privileged=False, role_writes=True),
    Member(subuser="reader", privileged=False, role_writes=False),
]


def _rules(members_access: str, **extra: Any) -> BucketRules:
    return BucketRules(tenant=T, bucket=BUCKET, members_access=members_access, members=list(CAST), **extra)


def _arn(subuser: str) -> str:
    return f"arn:aws:iam::{T}:user/{T}:{subuser}"


def _denied(statements: list[dict[str, Any]], actions: list[str]) -> set[str]:
    """Every subuser named by a Deny of exactly ``actions``."""
    return {
        arn for s in statements if s["Effect"] == "Deny" and s["Action"] == actions for arn in s["Principal"]["AWS"]
    }


def test_principals_name_the_tenant_user_and_its_subuser() -> None:
    assert policy.principal_project("t2") == "arn:aws:iam::t2:user/t2"
    assert policy.principal_subuser("t2", "carol") == "arn:aws:iam::t2:user/t2:carol"


def test_readwrite_bucket_has_no_statements_for_members() -> None:
    sources = {"alice": [MemberSource("read", ("10.0.0.0/8",))]}
    assert policy.latchkey_statements(_rules("readwrite", sources=sources)) == []


def test_restricted_bucket_denies_everything_to_members_without_grants_but_never_managers() -> None:
    statements = policy.latchkey_statements(_rules("none"))
    assert statements == [
        {
            "Sid": "latchkey-deny-read-0",
            "Effect": "Deny",
            "Principal": {"AWS": [_arn("alice"), _arn("bob"), _arn("reader")]},
            "Action": ["s3:*"],
            "Resource": RESOURCES,
        }
    ]
    named = str(statements)
    assert _arn("manager") not in named and _arn("deputy") not in named


def test_read_bucket_denies_writing_to_writers_only() -> None:
    statements = policy.latchkey_statements(_rules("read"))
    assert len(statements) == 1
    (deny,) = statements
    assert deny["Effect"] == "Deny" and deny["Action"] == policy.DENY_WRITE
    assert deny["Principal"] == {"AWS": [_arn("alice"), _arn("bob")]}  # not the read-only member
    assert "Condition" not in deny
    assert {"s3:Put*", "s3:Delete*"} <= set(policy.DENY_WRITE)


def test_readwrite_grant_lifts_the_deny_for_that_member_only() -> None:
    statements = policy.latchkey_statements(_rules("none", sources={"alice": [MemberSource("readwrite")]}))
    assert _denied(statements, policy.DENY_ALL) == {_arn("bob"), _arn("reader")}
    assert _denied(statements, policy.DENY_WRITE) == set()
    # The same grant in a read-only bucket lifts alice's write deny.
    statements = policy.latchkey_statements(_rules("read", sources={"alice": [MemberSource("readwrite")]}))
    assert _denied(statements, policy.DENY_WRITE) == {_arn("bob")}


def test_read_grant_in_restricted_bucket_still_denies_writing() -> None:
    statements = policy.latchkey_statements(_rules("none", sources={"alice": [MemberSource("read")]}))
    assert _arn("alice") not in _denied(statements, policy.DENY_ALL)
    assert _denied(statements, policy.DENY_WRITE) == {_arn("alice")}


def test_grants_with_addresses_deny_outside_the_union_of_their_ranges() -> None:
    sources = {
        "alice": [
            MemberSource("readwrite", ("192.0.2.0/24", "10.0.0.0/8")),
            MemberSource("readwrite", ("10.0.0.0/8", "198.51.100.7/32")),
        ]
    }
    statements = policy.latchkey_statements(_rules("none", sources=sources))
    limited = [s for s in statements if _arn("alice") in s["Principal"]["AWS"]]
    assert [s["Action"] for s in limited] == [policy.DENY_ALL, policy.DENY_WRITE]
    for deny in limited:
        assert deny["Principal"] == {"AWS": [_arn("alice")]}  # not merged with the unconditional deny
        assert deny["Effect"] == "Deny"
        assert deny["Condition"] == {
            "NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.0.2.0/24", "198.51.100.7/32"]}
        }
    unconditional = [s for s in statements if "Condition" not in s]
    assert _denied(unconditional, policy.DENY_ALL) == {_arn("bob"), _arn("reader")}


def test_a_source_without_addresses_outweighs_limited_ones() -> None:
    sources = {"alice": [MemberSource("readwrite", ("10.0.0.0/8",)), MemberSource("readwrite")]}
    statements = policy.latchkey_statements(_rules("none", sources=sources))
    assert _arn("alice") not in str(statements)
    # The bucket's own rule counts as a source from anywhere: a limited read grant adds nothing.
    statements = policy.latchkey_statements(_rules("read", sources={"alice": [MemberSource("read", ("10.0.0.0/8",))]}))
    assert all("Condition" not in s for s in statements)
    assert _denied(statements, policy.DENY_WRITE) == {_arn("alice"), _arn("bob")}


def _outside(*grants: Outside) -> list[dict[str, Any]]:
    rules = BucketRules(tenant=T, bucket=BUCKET, members_access="readwrite", outside=list(grants))
    return policy.latchkey_statements(rules)


def test_another_project_reads_or_writes_as_granted() -> None:
    project = policy.principal_project("t2")
    read, write = _outside(Outside(7, project, "read"), Outside(8, project, "readwrite"))
    assert read == {
        "Sid": "latchkey-grant-7",
        "Effect": "Allow",
        "Principal": {"AWS": ["arn:aws:iam::t2:user/t2"]},
        "Action": policy.READ_ACTIONS,
        "Resource": RESOURCES,
    }
    assert write["Action"] == policy.READ_ACTIONS + policy.WRITE_ACTIONS
    assert "s3:PutObject" in write["Action"] and "s3:PutObject" not in read["Action"]


def test_the_grantees_read_only_keys_get_reading_only_with_the_grants_conditions() -> None:
    ends = datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC)
    keys = (policy.principal_key_user("t2", "klkb"), policy.principal_key_user("t2", "klka"))
    grant = Outside(8, policy.principal_project("t2"), "readwrite", ("10.0.0.0/8",), ends, read_keys=keys)
    main, readers = _outside(grant)
    assert main["Action"] == policy.READ_ACTIONS + policy.WRITE_ACTIONS
    assert readers == {
        "Sid": "latchkey-grant-8-read-keys",
        "Effect": "Allow",
        "Principal": {"AWS": ["arn:aws:iam::t2:user/klka", "arn:aws:iam::t2:user/klkb"]},
        "Action": policy.KEY_READ_ACTIONS,
        "Resource": RESOURCES,
        "Condition": main["Condition"],
    }
    assert main["Condition"] == {
        "IpAddress": {"aws:SourceIp": ["10.0.0.0/8"]},
        "DateLessThan": {"aws:CurrentTime": "2027-01-02T03:04:05Z"},
    }
    assert not any(action in policy.KEY_READ_ACTIONS for action in policy.WRITE_ACTIONS)


def test_one_user_of_another_project_is_named_as_a_subuser() -> None:
    (statement,) = _outside(Outside(3, policy.principal_subuser("t2", "carol"), "read"))
    assert statement["Principal"] == {"AWS": ["arn:aws:iam::t2:user/t2:carol"]}
    assert statement["Effect"] == "Allow"


def test_one_user_of_a_project_in_an_account_is_named_by_each_key_and_by_none_without_keys() -> None:
    keys = ("arn:aws:iam::RGW2:user/latchkey/kb", "arn:aws:iam::RGW2:user/latchkey/ka")
    (statement,) = _outside(Outside(3, keys, "read"))
    assert statement["Principal"] == {"AWS": sorted(keys)}
    assert statement["Action"] == policy.READ_ACTIONS
    # Without a key there is nobody to name: no statement at all, never one for everyone.
    assert _outside(Outside(4, (), "readwrite")) == []


def test_the_public_only_ever_gets_public_actions() -> None:
    for level in ("read", "readwrite"):
        (statement,) = _outside(Outside(5, None, level))
        assert statement["Principal"] == "*"
        assert statement["Action"] == policy.PUBLIC_ACTIONS == ["s3:GetObject", "s3:ListBucket"]


def test_expiry_and_addresses_become_conditions() -> None:
    end = datetime(2031, 2, 3, 4, 5, 6, 789, tzinfo=UTC)
    (statement,) = _outside(Outside(9, policy.principal_project("t2"), "read", ("192.0.2.0/24",), end))
    assert statement["Condition"] == {
        "IpAddress": {"aws:SourceIp": ["192.0.2.0/24"]},
        "DateLessThan": {"aws:CurrentTime": "2031-02-03T04:05:06Z"},
    }
    (plain,) = _outside(Outside(9, policy.principal_project("t2"), "read"))
    assert "Condition" not in plain


def test_outside_grants_are_ordered_by_id_after_the_denies() -> None:
    rules = _rules("none", outside=[Outside(12, None, "read"), Outside(4, policy.principal_project("t2"), "read")])
    statements = policy.latchkey_statements(rules)
    assert [s["Effect"] for s in statements] == ["Deny", "Allow", "Allow"]
    assert [s["Sid"] for s in statements[1:]] == ["latchkey-grant-4", "latchkey-grant-12"]


def test_order_of_members_does_not_change_the_policy() -> None:
    sources = {"alice": [MemberSource("read", ("10.0.0.0/8",))], "bob": [MemberSource("read")]}
    forward = _rules("none", sources=sources)
    backward = _rules("none", sources=sources)
    backward.members.reverse()
    assert policy.latchkey_statements(forward) == policy.latchkey_statements(backward)


def test_sids_are_unique_and_ours() -> None:
    sources = {
        "alice": [MemberSource("read", ("10.0.0.0/8",))],
        "bob": [MemberSource("readwrite", ("192.0.2.0/24",))],
        "reader": [MemberSource("read", ("192.0.2.0/24",))],
    }
    outside = [Outside(1, None, "read"), Outside(2, policy.principal_project("t2"), "readwrite", ("10.0.0.0/8",))]
    statements = policy.latchkey_statements(_rules("none", sources=sources, outside=outside))
    sids = [s["Sid"] for s in statements]
    assert len(statements) >= 6
    assert len(sids) == len(set(sids))
    assert all(policy.is_ours(s) for s in statements)


FOREIGN_A = {
    "Sid": "people-read",
    "Effect": "Allow",
    "Principal": "*",
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::data/pub/*",
}
FOREIGN_B = {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::data/*"}
OLD_OURS = {
    "Sid": "latchkey-grant-1",
    "Effect": "Allow",
    "Principal": "*",
    "Action": ["s3:GetObject"],
    "Resource": RESOURCES,
}


def test_merge_keeps_people_statements_first_and_replaces_ours() -> None:
    current = {"Version": "2008-10-17", "Statement": [OLD_OURS, FOREIGN_A, FOREIGN_B]}
    ours = _outside(Outside(2, None, "read"))
    merged = policy.merged_policy(current, ours)
    assert merged == {"Version": "2008-10-17", "Statement": [FOREIGN_A, FOREIGN_B, *ours]}
    assert current["Statement"] == [OLD_OURS, FOREIGN_A, FOREIGN_B]  # the input is not changed


def test_merge_accepts_a_single_statement_without_a_list() -> None:
    assert policy.merged_policy({"Version": policy.VERSION, "Statement": FOREIGN_A}, []) == {
        "Version": policy.VERSION,
        "Statement": [FOREIGN_A],
    }
    assert policy.merged_policy({"Version": policy.VERSION, "Statement": OLD_OURS}, []) is None


def test_merge_gives_none_when_nothing_is_left_and_a_version_when_something_is() -> None:
    assert policy.merged_policy(None, []) is None
    assert policy.merged_policy({}, []) is None
    assert policy.merged_policy({"Version": policy.VERSION, "Statement": [OLD_OURS]}, []) is None
    ours = _outside(Outside(2, None, "read"))
    assert policy.merged_policy(None, ours) == {"Version": "2012-10-17", "Statement": ours}


def test_only_the_prefix_marks_a_statement_as_ours() -> None:
    assert policy.is_ours({"Sid": "latchkey-anything"})
    assert not policy.is_ours({"Sid": "Latchkey-upper"})
    assert not policy.is_ours({"Sid": "my-latchkey-copy"})
    assert not policy.is_ours({"Effect": "Allow"})
    assert not policy.is_ours("latchkey-not-a-dict")


def _denies_of(statements: list[dict[str, Any]], subuser: str) -> list[tuple[list[str], dict[str, Any]]]:
    return [
        (s["Action"], s.get("Condition", {}))
        for s in statements
        if s["Effect"] == "Deny" and _arn(subuser) in s["Principal"]["AWS"]
    ]


def test_a_member_grant_that_ends_is_denied_by_ceph_from_its_end() -> None:
    ends = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
    rules = _rules("none", sources={"alice": [MemberSource("readwrite", expires_at=ends)]})
    assert _denies_of(policy.latchkey_statements(rules), "alice") == [
        (policy.DENY_ALL, {"DateGreaterThan": {"aws:CurrentTime": "2026-12-01T18:00:00Z"}})
    ]


def test_grants_that_end_at_different_times_narrow_step_by_step() -> None:
    """Read-write until 18:00 (from one network), read until 20:00: denied writing outside the
    network now, writing everywhere from 18:00, everything from 20:00."""
    first, second = datetime(2026, 12, 1, 18, 0, tzinfo=UTC), datetime(2026, 12, 1, 20, 0, tzinfo=UTC)
    sources = [
        MemberSource("readwrite", cidrs=("10.0.0.0/8",), expires_at=first),
        MemberSource("read", expires_at=second),
    ]
    denies = _denies_of(policy.latchkey_statements(_rules("none", sources={"alice": sources})), "alice")
    assert sorted(denies, key=str) == sorted(
        [
            (policy.DENY_ALL, {"DateGreaterThan": {"aws:CurrentTime": "2026-12-01T20:00:00Z"}}),
            (policy.DENY_WRITE, {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8"]}}),
            (policy.DENY_WRITE, {"DateGreaterThan": {"aws:CurrentTime": "2026-12-01T18:00:00Z"}}),
        ],
        key=str,
    )


def test_a_permanent_source_outlasts_any_that_ends() -> None:
    ends = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
    sources = [MemberSource("readwrite", expires_at=ends), MemberSource("readwrite")]
    assert _denies_of(policy.latchkey_statements(_rules("none", sources={"alice": sources})), "alice") == []
    # The bucket's rule for all members (read) stays after a read-write grant ends.
    rules = _rules("read", sources={"bob": [MemberSource("readwrite", expires_at=ends)]})
    assert _denies_of(policy.latchkey_statements(rules), "bob") == [
        (policy.DENY_WRITE, {"DateGreaterThan": {"aws:CurrentTime": "2026-12-01T18:00:00Z"}})
    ]


def _key_statements(keys: list[policy.ScopedKey]) -> list[dict[str, Any]]:
    return [s for s in policy.latchkey_statements(_rules("readwrite", keys=keys)) if s["Effect"] == "Allow"]


def test_scoped_keys_sharing_level_and_conditions_share_one_statement() -> None:
    rw, ro = MemberSource("readwrite"), MemberSource("read")
    keys = [
        policy.ScopedKey(user="kb", level="read", sources=(rw,)),
        policy.ScopedKey(user="ka", level="read", sources=(ro,)),
        policy.ScopedKey(user="kc", level="readwrite", sources=(ro,)),  # capped by its owner: read
        policy.ScopedKey(user="kd", level="readwrite", sources=(rw,)),
        policy.ScopedKey(user="kx", level="readwrite", sources=()),  # owner excluded: nothing
    ]
    statements = _key_statements(keys)
    by_sid = {s["Sid"]: s for s in statements}
    assert by_sid["latchkey-key-read-0"]["Principal"]["AWS"] == [
        f"arn:aws:iam::{T}:user/{u}" for u in ("ka", "kb", "kc")
    ]
    assert by_sid["latchkey-key-read-0"]["Action"] == policy.KEY_READ_ACTIONS
    assert by_sid["latchkey-key-readwrite-1"]["Principal"]["AWS"] == [f"arn:aws:iam::{T}:user/kd"]
    assert by_sid["latchkey-key-readwrite-1"]["Action"] == policy.KEY_READ_ACTIONS + policy.WRITE_ACTIONS
    assert "kx" not in str(statements)
    # A key that writes: the project's members may read what it wrote (its user owns the objects).
    assert by_sid["latchkey-members-read-key-objects"]["Principal"] == {"AWS": [policy.principal_project(T)]}
    assert by_sid["latchkey-members-read-key-objects"]["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]


def test_a_scoped_key_carries_each_reason_of_its_owner_with_its_conditions() -> None:
    ends = datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC)
    sources = (MemberSource("read", cidrs=("10.0.0.0/8",)), MemberSource("readwrite", expires_at=ends))
    statements = _key_statements([policy.ScopedKey(user="ka", level="readwrite", sources=sources)])
    conditions = {s["Sid"]: s.get("Condition") for s in statements}
    assert conditions == {
        "latchkey-key-read-0": {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8"]}},
        "latchkey-key-readwrite-1": {"DateLessThan": {"aws:CurrentTime": "2027-01-02T03:04:05Z"}},
        "latchkey-members-read-key-objects": None,
    }


def test_read_only_scoped_keys_add_no_member_read_statement() -> None:
    statements = _key_statements([policy.ScopedKey(user="ka", level="read", sources=(MemberSource("readwrite"),))])
    assert [s["Sid"] for s in statements] == ["latchkey-key-read-0"]


BY_HAND = {"Sid": "by-hand", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/*"]}


@pytest.mark.parametrize(
    ("principal", "problem"),
    [
        ("*", None),
        ({"AWS": "*"}, None),
        ({"AWS": ["arn:aws:iam::t1:user/t1:alice", "arn:aws:iam::t1:root", "arn:aws:iam::t1:role/r"]}, None),
        ({"AWS": "123456789012"}, None),
        ({"Federated": "arn:aws:iam::x:oidc-provider/h"}, None),
        ({"Service": "s3.amazonaws.com"}, "the principal type 'Service' is not one the storage service accepts"),
        (
            {"AWS": "arn:aws:iam:user/x"},
            "the principal 'arn:aws:iam:user/x' is not an IAM ARN the storage service accepts",
        ),
        (
            {"AWS": "arn:aws:iam::t1:group/g"},
            "the principal 'arn:aws:iam::t1:group/g' is not an IAM ARN the storage service accepts",
        ),
        ({"AWS": "arn:aws:s3:::x"}, "the principal 'arn:aws:s3:::x' is not an IAM ARN the storage service accepts"),
        ({"AWS": [5]}, "the principal 5 is not a string"),
        ({"CanonicalUser": "abc"}, "the principal type 'CanonicalUser' is not one the storage service accepts"),
        ({}, "its principal is neither '*' nor an object"),
        ("someone", "its principal is neither '*' nor an object"),
    ],
)
def test_principals_the_storage_service_would_refuse(principal: object, problem: str | None) -> None:
    assert policy.statement_problem({**BY_HAND, "Principal": principal}) == problem
    assert policy.statement_problem({**BY_HAND, "NotPrincipal": principal}) == problem


def test_a_refused_statement_is_left_out_of_the_merge_and_reported() -> None:
    bad = {**BY_HAND, "Principal": {"AWS": "arn:aws:iam:user/x"}}
    good = {**BY_HAND, "Sid": "good", "Principal": "*"}
    current = {"Version": policy.VERSION, "Statement": [good, bad, OLD_OURS, "not a statement"]}
    ours = _outside(Outside(2, None, "read"))
    assert policy.merged_policy(current, ours) == {"Version": policy.VERSION, "Statement": [good, *ours]}
    assert policy.refused_statements(current) == [
        {
            "statement": bad,
            "reason": "the principal 'arn:aws:iam:user/x' is not an IAM ARN the storage service accepts",
        },
        {"statement": "not a statement", "reason": "it is not a JSON object"},
    ]
    assert policy.refused_statements(None) == []


@pytest.mark.parametrize(
    ("principal", "effect", "left_out"),
    [
        ("*", "Allow", True),
        ({"AWS": ["arn:aws:iam::t2:user/t2", "*"]}, "Allow", True),
        ({"AWS": "arn:aws:iam::t1:root"}, "Allow", True),  # every user of the tenant, scoped keys too
        ({"AWS": "arn:aws:iam::t1:user/klk0123"}, "Allow", True),  # a scoped key's own user
        ({"AWS": "arn:aws:iam::t1:user/t1*"}, "Allow", True),
        ({"AWS": "arn:aws:iam::t1:user/t1:alice"}, "Allow", False),
        ({"AWS": "arn:aws:iam::t2:root"}, "Allow", False),  # another project: its business
        ("*", "Deny", False),  # a Deny only takes away
    ],
)
def test_people_statements_that_reach_past_scoped_keys_are_left_out(
    principal: object, effect: str, left_out: bool
) -> None:
    """L9: an Allow for everyone, or for every user of the bucket's own tenant, would reach the
    project's scoped keys past their scope (and publish past a manager's public grant)."""
    statement = {**BY_HAND, "Effect": effect, "Principal": principal}
    assert (policy.reach_problem(statement, "t1") is not None) == left_out
    assert (policy.refused_statements({"Statement": [statement]}, "t1") != []) == left_out
    merged = policy.merged_policy({"Statement": [statement]}, [OLD_OURS], tenant="t1")
    assert merged is not None and (statement in merged["Statement"]) != left_out
