"""keys.services against real Ceph; fakes only stand in for a Ceph that fails on purpose."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import keys.expiry as expiry
from buckets.inventory import project_refresh_usage
from buckets.sync import policies_sync_dirty
from keys.expiry import keys_sweep
from keys.models import AccessKey
from keys.services import KeyActionError, key_delete, keys_revoke_for_membership
from lifecycle.keys import key_create
from lifecycle.memberships import membership_provision
from projects.models import Membership, Role
from storage import client as storage
from tests.support.s3 import s3_error_code, wait_refused

pytestmark = [pytest.mark.ceph, pytest.mark.django_db]

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _ceph_key_ids(membership: Membership) -> set[str]:
    return {k.access_key for k in storage.keys_list(tenant=membership.project.tenant)}


def test_key_create_records_everything_but_the_secret(project, member_of) -> None:  # type: ignore[no-untyped-def]
    membership = member_of(project)
    issued = key_create(membership=membership, hours=2, description="ensemble run 7", now=T0)
    key = AccessKey.objects.get(pk=issued.key.pk)
    assert key.status == AccessKey.Status.ACTIVE
    assert (key.created_at, key.expires_at) == (T0, T0 + timedelta(hours=2))
    assert key.owner == membership.user and key.project == project
    assert key.subuser == membership.user.rgw_name
    # The secret is in no column of the row.
    row = AccessKey.objects.filter(pk=key.pk).values().get()
    assert issued.secret not in {str(v) for v in row.values()}
    assert _ceph_key_ids(membership) == {key.access_key_id}
    assert s3_error_code(key.access_key_id, issued.secret) is None


def test_key_delete_makes_s3_refuse_the_key(project, member_of) -> None:  # type: ignore[no-untyped-def]
    membership = member_of(project)
    issued = key_create(membership=membership, hours=1, description="x")
    key_delete(key=issued.key, actor=membership.user)
    assert AccessKey.objects.get(pk=issued.key.pk).status == AccessKey.Status.REVOKED
    assert wait_refused(issued.key.access_key_id, issued.secret) == "InvalidAccessKeyId"
    with pytest.raises(KeyActionError):
        key_delete(key=AccessKey.objects.get(pk=issued.key.pk), actor=membership.user)


@pytest.mark.parametrize("hours", [0, 169, -1])
def test_key_create_rejects_durations_outside_the_limit(project, member_of, hours: int) -> None:  # type: ignore[no-untyped-def]
    membership = member_of(project)
    with pytest.raises(KeyActionError):
        key_create(membership=membership, hours=hours, description="x")
    assert not AccessKey.objects.exists()


def test_ceph_failure_during_create_leaves_nothing(project, member_of, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    membership = member_of(project)
    key_create(membership=membership, hours=1, description="provisions the subuser")

    def down(**kwargs: object) -> str:
        raise storage.StorageUnavailable("down")

    monkeypatch.setattr(storage, "key_create", down)
    with pytest.raises(storage.StorageUnavailable):
        key_create(membership=membership, hours=1, description="fails")
    assert AccessKey.objects.count() == 1
    assert len(_ceph_key_ids(membership)) == 1


def test_key_that_ceph_created_but_did_not_confirm_is_removed(project, member_of, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Ceph made the key, then the answer was lost (a timeout): the key must not survive.
    membership = member_of(project)
    real_create = storage.key_create

    def created_then_lost(**kwargs: str) -> str:
        real_create(**kwargs)
        raise storage.StorageUnavailable("answer lost")

    monkeypatch.setattr(storage, "key_create", created_then_lost)
    with pytest.raises(storage.StorageUnavailable):
        key_create(membership=membership, hours=1, description="x")
    assert not AccessKey.objects.exists()
    assert _ceph_key_ids(membership) == set()


def test_sweep_cleans_a_pending_key_when_ceph_was_down_during_cleanup(project, member_of, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    membership = member_of(project)
    membership_provision(membership=membership)
    real_create, real_remove = storage.key_create, storage.key_remove

    def created_then_lost(**kwargs: str) -> str:
        real_create(**kwargs)
        raise storage.StorageUnavailable("answer lost")

    def remove_down(**kwargs: str) -> None:
        raise storage.StorageUnavailable("down")

    monkeypatch.setattr(storage, "key_create", created_then_lost)
    monkeypatch.setattr(storage, "key_remove", remove_down)
    with pytest.raises(storage.StorageUnavailable):
        key_create(membership=membership, hours=1, description="x", now=T0)
    pending = AccessKey.objects.get()
    assert pending.status == AccessKey.Status.PENDING
    monkeypatch.setattr(storage, "key_remove", real_remove)

    assert keys_sweep(now=T0 + timedelta(minutes=1))["cleaned"] == 0
    assert keys_sweep(now=T0 + timedelta(minutes=6))["cleaned"] == 1
    assert not AccessKey.objects.exists()
    assert _ceph_key_ids(membership) == set()


def test_sweep_expires_only_overdue_keys(project, member_of) -> None:  # type: ignore[no-untyped-def]
    membership = member_of(project)
    short = key_create(membership=membership, hours=1, description="short", now=T0)
    long = key_create(membership=membership, hours=3, description="long", now=T0)
    assert keys_sweep(now=T0 + timedelta(minutes=59))["expired"] == 0
    assert keys_sweep(now=T0 + timedelta(hours=1))["expired"] == 1
    assert AccessKey.objects.get(pk=short.key.pk).status == AccessKey.Status.EXPIRED
    assert AccessKey.objects.get(pk=long.key.pk).status == AccessKey.Status.ACTIVE
    assert wait_refused(short.key.access_key_id, short.secret) == "InvalidAccessKeyId"
    assert s3_error_code(long.key.access_key_id, long.secret) is None
    assert keys_sweep(now=T0 + timedelta(hours=1))["expired"] == 0  # idempotent


def test_read_only_member_gets_a_read_only_key(project, member_of) -> None:  # type: ignore[no-untyped-def]
    writer = key_create(membership=member_of(project, Role.MEMBER, "w"), hours=1, description="w")
    reader = key_create(membership=member_of(project, Role.READ_ONLY, "r"), hours=1, description="r")
    w = storage.s3_client(access_key=writer.key.access_key_id, secret_key=writer.secret)
    r = storage.s3_client(access_key=reader.key.access_key_id, secret_key=reader.secret)
    bucket = f"ro-{project.number}"
    w.create_bucket(Bucket=bucket)
    w.put_object(Bucket=bucket, Key="k", Body=b"data")
    # The reader's key is a user of its own: a bucket made over S3 stays closed to it until
    # Latchkey has seen the bucket (the usage refresh) and written its policy.
    with pytest.raises(Exception, match="AccessDenied"):
        r.get_object(Bucket=bucket, Key="k")
    project_refresh_usage(project=project)
    policies_sync_dirty(project=project)
    assert r.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"
    with pytest.raises(Exception, match="AccessDenied"):
        r.put_object(Bucket=bucket, Key="k2", Body=b"x")
    with pytest.raises(Exception, match="AccessDenied"):
        r.create_bucket(Bucket=f"ro2-{project.number}")


@pytest.mark.parametrize("race", ["revoked", "membership ended"])
def test_access_ending_while_ceph_makes_the_key_wins(project, member_of, monkeypatch, race: str) -> None:  # type: ignore[no-untyped-def]
    """The revocation runs between Latchkey's PENDING row and Ceph's answer (it finds the key not
    yet in Ceph). The key Ceph then makes must not be confirmed: S3 refuses it."""
    membership = member_of(project)
    membership_provision(membership=membership)
    real_create = storage.key_create
    made: dict[str, str] = {}

    def revoked_meanwhile(**kwargs: str) -> str:
        if race == "revoked":
            keys_revoke_for_membership(membership=membership, reason="membership ended")
        else:
            Membership.objects.filter(pk=membership.pk).update(status=Membership.Status.ENDING)
        made["secret"] = real_create(**kwargs)
        made["access_key"] = kwargs["access_key"]
        return made["secret"]

    monkeypatch.setattr(storage, "key_create", revoked_meanwhile)
    with pytest.raises(KeyActionError, match="ended while the key was being made"):
        key_create(membership=membership, hours=1, description="raced")
    assert wait_refused(made["access_key"], made["secret"]) == "InvalidAccessKeyId"
    assert AccessKey.objects.get(access_key_id=made["access_key"]).status == AccessKey.Status.REVOKED
    assert made["access_key"] not in _ceph_key_ids(membership)


def test_sweep_goes_on_past_a_surprise_on_one_key(project, member_of, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    membership = member_of(project)
    old = [key_create(membership=membership, hours=1, description=f"old {i}", now=T0) for i in range(3)]
    real_expire = expiry.key_expire

    def surprising(*, key_id: int, now: datetime | None = None) -> bool:
        if key_id == old[1].key.pk:
            raise RuntimeError("a bug, not a Ceph outage")
        return real_expire(key_id=key_id, now=now)

    monkeypatch.setattr(expiry, "key_expire", surprising)
    summary = keys_sweep()
    assert summary["expired"] == 2 and summary["failed"] == 1
    statuses = [AccessKey.objects.get(pk=k.key.pk).status for k in old]
    assert statuses == [AccessKey.Status.EXPIRED, AccessKey.Status.ACTIVE, AccessKey.Status.EXPIRED]
    assert wait_refused(old[2].key.access_key_id, old[2].secret) == "InvalidAccessKeyId"
