"""The inline policy of an accounts-model key: its shape, and its dates in the one form RGW parses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from storage.identity import (
    ACTIONS,
    DENY,
    LEVEL_ACTIONS,
    KeyRights,
    Narrowing,
    Reach,
    key_policy,
    rights_from_json,
    rights_json,
    stamp,
)

END = datetime(2027, 3, 4, 5, 6, 7, tzinfo=UTC)


def test_the_end_is_a_deny_of_everything_from_the_next_whole_second() -> None:
    statements = key_policy(KeyRights(ends_at=END + timedelta(microseconds=1)))["Statement"]
    assert statements[-1] == {
        "Sid": "end",
        "Effect": "Deny",
        "Action": "*",
        "Resource": "*",
        "Condition": {"DateGreaterThanEquals": {"aws:CurrentTime": "2027-03-04T05:06:08Z"}},
    }
    # A whole second stays that second; another zone is written in UTC with a Z (an offset such
    # as +02:00 is accepted by RGW and then never matches: the key would never end).
    assert stamp(END, round_up=True) == "2027-03-04T05:06:07Z"
    assert stamp(END.astimezone(timezone(timedelta(hours=2)))) == "2027-03-04T05:06:07Z"


def test_a_member_key_allows_its_roles_actions_anywhere_less_its_narrowings() -> None:
    since = "2027-01-01T00:00:00Z"
    rights = KeyRights(
        ends_at=END,
        actions="write",
        narrowed=(Narrowing("closed", "read"), Narrowing("limited", "write", since, ("10.0.0.0/8",))),
    )
    allow, closed, limited, end = key_policy(rights)["Statement"]
    assert allow == {"Sid": "rights", "Effect": "Allow", "Action": ACTIONS["write"], "Resource": "*"}
    assert closed["Effect"] == "Deny" and closed["Action"] == DENY["read"] and "Condition" not in closed
    assert closed["Resource"] == ["arn:aws:s3:::closed", "arn:aws:s3:::closed/*"]
    assert limited["Condition"] == {
        "NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8"]},
        "DateGreaterThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"},
    }
    assert end["Sid"] == "end"


def test_read_makes_and_changes_nothing_and_a_bucket_key_lists_no_buckets() -> None:
    writes = {"s3:PutObject", "s3:DeleteObject", "s3:CreateBucket", "s3:PutBucketVersioning", "s3:PutBucketPolicy"}
    assert not writes & set(ACTIONS["read"])
    assert "s3:ListAllMyBuckets" not in LEVEL_ACTIONS["read"] + LEVEL_ACTIONS["readwrite"]
    assert ACTIONS["manage"] == ["s3:*"]
    rights = KeyRights(ends_at=END, anywhere=False, reach=(Reach("raw", "readwrite", ("192.0.2.0/24",), END),))
    (bucket, end) = key_policy(rights)["Statement"]
    assert bucket["Action"] == LEVEL_ACTIONS["readwrite"] and "s3:CreateBucket" not in bucket["Action"]
    assert bucket["Condition"] == {
        "IpAddress": {"aws:SourceIp": ["192.0.2.0/24"]},
        "DateLessThan": {"aws:CurrentTime": "2027-03-04T05:06:07Z"},
    }
    assert end["Sid"] == "end"


def test_rights_are_stored_without_their_end_and_read_back_whole() -> None:
    rights = KeyRights(
        ends_at=END,
        actions="read",
        anywhere=False,
        narrowed=(Narrowing("b", "write", "2027-01-01T00:00:00Z", ("10.0.0.0/8",)),),
        reach=(Reach("raw", "read", ("192.0.2.0/24",), END), Reach("out", "readwrite")),
    )
    later = END + timedelta(days=1)
    assert rights_from_json(rights_json(rights), ends_at=later) == KeyRights(
        ends_at=later, actions="read", anywhere=False, narrowed=rights.narrowed, reach=rights.reach
    )


def test_a_start_rgw_would_not_parse_never_reaches_a_policy() -> None:
    with pytest.raises(ValueError, match="not a time RGW parses"):
        key_policy(KeyRights(ends_at=END, narrowed=(Narrowing("b", "read", "2027-01-01T00:00:00+02:00"),)))
