"""Scoped keys against the real radosgw (two gateways): each scope does what it names and nothing
more, follows its owner, and leaves nothing of itself in Ceph when it ends. Every "can" and
"cannot" below is a real S3 request signed with the key."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from django.utils import timezone

from accounts.models import User
from buckets.grants import GrantRequest, grant_create, grant_revoke
from buckets.models import Bucket, Grant, KeyBucket
from buckets.services import bucket_create, bucket_set_members_access
from buckets.sync import policies_sync_dirty
from keys.expiry import keys_sweep
from keys.models import AccessKey
from keys.reconcile import keys_reconcile
from keys.scopes import KeyScope, ScopeError, scope_from
from keys.services import key_delete, key_reveal_secret
from lifecycle.keys import key_create
from lifecycle.memberships import STALE, membership_set_role, memberships_apply_stale
from projects.models import Membership, Project, Role
from storage import client as storage
from tests.support.ceph import access_statements
from tests.support.s3 import s3_error_code, wait_refused

pytestmark = [pytest.mark.django_db, pytest.mark.ceph]
READ_ONLY = KeyScope(kind=AccessKey.Scope.READ_ONLY)
MEMBER = KeyScope()


class Key:
    """A key as its holder uses it: a boto3 client that names buckets of its own project."""

    def __init__(self, membership: Membership, scope: KeyScope = MEMBER, hours: int = 2) -> None:
        issued = key_create(membership=membership, hours=hours, description="scope test", scope=scope)
        self.key, self.secret = issued.key, issued.secret
        self.s3 = storage.s3_client(access_key=issued.key.access_key_id, secret_key=issued.secret)

    def code(self, call: Callable[..., Any], **kwargs: Any) -> str:
        """ "ok", or the S3 error code the gateway answered with."""
        try:
            call(**kwargs)
        except ClientError as exc:
            return str(exc.response["Error"]["Code"])
        return "ok"

    def can(self, bucket: str) -> str:
        """ "rw", "r", "w" or "-": reading (list + get the seed) and writing, tried for real."""
        read = self.code(self.s3.list_objects_v2, Bucket=bucket) == "ok" and (
            self.code(self.s3.get_object, Bucket=bucket, Key="seed.txt") == "ok"
        )
        write = self.code(self.s3.put_object, Bucket=bucket, Key=f"w-{self.key.access_key_id}", Body=b"w") == "ok"
        return "rw" if read and write else "r" if read else "w" if write else "-"


@pytest.fixture
def world(project: Project, make_user: Callable[..., User]) -> dict[str, Any]:
    """A project with a manager, a member and a read-only member; buckets "raw" and "results"
    for all members, and "secret" restricted to the manager; a seed object in each."""
    w: dict[str, Any] = {"project": project}
    for name, role in [("manager", Role.MANAGER), ("alice", Role.MEMBER), ("reader", Role.READ_ONLY)]:
        w[name] = Membership.objects.create(user=make_user(name), project=project, role=role)
    w["owner"] = Key(w["manager"])
    for name in ("raw", "results", "secret"):
        w[name] = bucket_create(membership=w["manager"], name=name)
        w["owner"].s3.put_object(Bucket=name, Key="seed.txt", Body=b"seed")
    bucket_set_members_access(bucket=w["secret"], members_access=Bucket.MembersAccess.NONE)
    return w


def _buckets(*pairs: tuple[str, str]) -> KeyScope:
    return scope_from(AccessKey.Scope.BUCKETS, list(pairs))


def _scoped_users(project: Project) -> set[str]:
    return storage.scoped_users().get(project.tenant, set())


def _policy_names(project: Project, bucket: str, user: str) -> bool:
    policy = storage.bucket_policy_get(tenant=project.tenant, name=bucket)
    return user in json.dumps(policy or {})


def test_read_only_key_reads_what_its_owner_may_and_changes_nothing(world: dict[str, Any]) -> None:
    alice = Key(world["alice"], READ_ONLY)
    assert {b: alice.can(b) for b in ("raw", "results", "secret")} == {"raw": "r", "results": "r", "secret": "-"}
    s3 = alice.s3
    assert alice.code(s3.delete_object, Bucket="raw", Key="seed.txt") == "AccessDenied"
    assert alice.code(s3.create_bucket, Bucket="made-by-key") == "AccessDenied"
    policy = json.dumps({"Version": "2012-10-17", "Statement": []})
    assert alice.code(s3.put_bucket_policy, Bucket="raw", Policy=policy) == "AccessDenied"
    versioning = {"Status": "Enabled"}
    assert alice.code(s3.put_bucket_versioning, Bucket="raw", VersioningConfiguration=versioning) == "AccessDenied"
    # It owns no bucket: the listing shows none, so a leaked key does not even tell what exists.
    assert s3.list_buckets()["Buckets"] == []
    # The manager's read-only key reads the restricted bucket too: the scope follows its owner.
    assert Key(world["manager"], READ_ONLY).can("secret") == "r"


def test_bucket_key_reaches_only_its_buckets_not_even_one_made_after_it(world: dict[str, Any]) -> None:
    key = Key(world["alice"], _buckets(("raw", "read"), ("results", "readwrite")))
    assert {b: key.can(b) for b in ("raw", "results", "secret")} == {"raw": "r", "results": "rw", "secret": "-"}
    later = bucket_create(membership=world["manager"], name="later")
    world["owner"].s3.put_object(Bucket=later.name, Key="seed.txt", Body=b"seed")
    assert key.can("later") == "-"
    assert key.code(key.s3.create_bucket, Bucket="by-scoped-key") == "AccessDenied"
    assert key.s3.list_buckets()["Buckets"] == []
    # What it writes stays readable by the project (the object belongs to the key's own user).
    key.s3.put_object(Bucket="results", Key="out.txt", Body=b"result")
    assert world["owner"].s3.get_object(Bucket="results", Key="out.txt")["Body"].read() == b"result"
    assert Key(world["reader"]).s3.get_object(Bucket="results", Key="out.txt")["Body"].read() == b"result"


def test_scopes_never_exceed_the_member(world: dict[str, Any], unique: Callable[[], str]) -> None:
    number = unique()
    other = Project.objects.create(number=number, title="other", tenant=f"o{number}")
    manager = Membership.objects.create(user=world["manager"].user, project=other, role=Role.MANAGER)
    bucket_create(membership=manager, name="elsewhere")
    cases = [
        (world["alice"], _buckets(("elsewhere", "read")), "has no bucket 'elsewhere'"),
        (world["alice"], _buckets(("nothing-here", "read")), "has no bucket 'nothing-here'"),
        (world["alice"], _buckets(("secret", "read")), "no access to bucket 'secret'"),
        (world["reader"], _buckets(("raw", "readwrite")), "may only read bucket 'raw'"),
    ]
    users_before = _scoped_users(world["project"])
    for membership, scope, message in cases:
        with pytest.raises(ScopeError, match=message):
            key_create(membership=membership, hours=1, description="x", scope=scope)
    assert not AccessKey.objects.exclude(pk=world["owner"].key.pk).exists()
    assert _scoped_users(world["project"]) == users_before == set()
    # A read-only member gets a read key for "raw", never a write one.
    assert Key(world["reader"], _buckets(("raw", "read"))).can("raw") == "r"


def test_deleted_and_expired_scoped_keys_leave_nothing_in_ceph(
    world: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    project = world["project"]
    deleted = Key(world["alice"], _buckets(("raw", "readwrite")))
    expiring = Key(world["alice"], READ_ONLY, hours=1)
    users = {deleted.key.rgw_user, expiring.key.rgw_user}
    assert _scoped_users(project) == users
    assert _policy_names(project, "raw", deleted.key.rgw_user) and _policy_names(project, "raw", expiring.key.rgw_user)

    with django_capture_on_commit_callbacks(execute=True):  # the test's transaction never commits
        key_delete(key=deleted.key, actor=world["alice"].user)
    assert wait_refused(deleted.key.access_key_id, deleted.secret) == "InvalidAccessKeyId"
    with django_capture_on_commit_callbacks(execute=True):
        keys_sweep(now=timezone.now() + timedelta(hours=1, seconds=1))
    assert AccessKey.objects.get(pk=expiring.key.pk).status == AccessKey.Status.EXPIRED
    assert wait_refused(expiring.key.access_key_id, expiring.secret) == "InvalidAccessKeyId"
    assert _scoped_users(project) == set()
    # The buckets that named them were marked; the worker's task (run here) rewrites them.
    assert Bucket.objects.filter(project=project, policy_dirty=True).count() == 3
    policies_sync_dirty(project=project)
    for bucket in ("raw", "results", "secret"):
        assert not _policy_names(project, bucket, deleted.key.rgw_user)
        assert not _policy_names(project, bucket, expiring.key.rgw_user)
    # Nothing of Latchkey's statements for keys is left; the restricted bucket keeps its own.
    assert access_statements(storage.bucket_policy_get(tenant=project.tenant, name="raw")) == []


def test_a_scoped_key_follows_its_owner(world: dict[str, Any]) -> None:
    alice = world["alice"]
    key = Key(alice, _buckets(("raw", "readwrite"), ("results", "readwrite")))
    assert (key.can("raw"), key.can("results")) == ("rw", "rw")
    # The bucket is restricted and alice is not admitted: her key loses it with her.
    bucket_set_members_access(bucket=world["results"], members_access=Bucket.MembersAccess.NONE)
    assert key.can("results") == "-"
    grant = grant_create(
        actor=world["manager"].user,
        bucket=world["results"],
        request=GrantRequest(kind=Grant.Kind.MEMBER, access="read", member_id=alice.pk),
    )
    assert key.can("results") == "r"
    grant_revoke(actor=world["manager"].user, grant=grant)
    assert key.can("results") == "-"
    # Downgraded to read-only: the key reads and no longer writes (Ceph's op-mask and the policy).
    membership_set_role(membership=alice, role=Role.READ_ONLY)
    assert key.can("raw") == "r"
    uid = storage.scoped_uid(alice.project.tenant, key.key.rgw_user)
    assert storage._client().get_user(uid=uid)["op_mask"] == "read"
    membership_set_role(membership=alice, role=Role.MEMBER)
    assert key.can("raw") == "rw"


def test_a_grant_with_an_end_carries_it_to_the_key(world: dict[str, Any]) -> None:
    alice = world["alice"]
    ends = timezone.now() + timedelta(hours=3)
    request = GrantRequest(kind=Grant.Kind.MEMBER, access="read", member_id=alice.pk, expires_at=ends)
    grant_create(actor=world["manager"].user, bucket=world["secret"], request=request)
    key = Key(alice, _buckets(("secret", "read")))
    assert key.can("secret") == "r"
    policy = storage.bucket_policy_get(tenant=alice.project.tenant, name="secret") or {}
    mine = [s for s in policy["Statement"] if key.key.rgw_user in json.dumps(s)]
    assert [s["Condition"] for s in mine] == [
        {"DateLessThan": {"aws:CurrentTime": ends.strftime("%Y-%m-%dT%H:%M:%SZ")}}
    ]


def test_reconcile_finds_scoped_users_ceph_and_latchkey_disagree_on(world: dict[str, Any]) -> None:
    project = world["project"]
    live = Key(world["alice"], READ_ONLY)
    # Made by hand (Ceph outlives each test's database, so the ids are fresh): one of a scoped
    # key's exact shape, one not, whatever its first letter.
    stray, other = "klk" + secrets.token_hex(9), "keep" + secrets.token_hex(4)
    for user in (stray, other):
        access_key = "LK" + secrets.token_hex(9).upper()
        assert storage.scoped_user_create(tenant=project.tenant, user=user, access_key=access_key, writes=False)
    storage.scoped_user_remove(tenant=project.tenant, user=live.key.rgw_user)  # removed by hand
    live.key.created_at = timezone.now() - timedelta(hours=1)
    AccessKey.objects.filter(pk=live.key.pk).update(created_at=live.key.created_at)
    report = keys_reconcile(remove_unknown=True)
    assert (project.number, f"{project.tenant}${stray}", "") in report.unknown
    assert stray in report.removed and live.key.access_key_id in report.missing
    assert storage.scoped_user_secret(tenant=project.tenant, user=other) is not None
    storage.scoped_user_remove(tenant=project.tenant, user=other)
    assert _scoped_users(project) == set()
    assert AccessKey.objects.get(pk=live.key.pk).status == AccessKey.Status.REVOKED


def test_a_policy_write_failing_withdraws_the_new_key(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(**kwargs: object) -> None:
        raise storage.StorageError("refused", code="AccessDenied")

    monkeypatch.setattr(storage, "bucket_policy_put", refused)
    with pytest.raises(storage.StorageError):
        key_create(membership=world["alice"], hours=1, description="x", scope=_buckets(("raw", "read")))
    assert not AccessKey.objects.filter(owner=world["alice"].user).exists()
    assert not KeyBucket.objects.exists()
    assert _scoped_users(world["project"]) == set()
    assert Bucket.objects.get(pk=world["raw"].pk).policy_dirty


def test_a_scoped_key_is_its_own_user_and_its_secret_can_be_shown_again(world: dict[str, Any]) -> None:
    key = Key(world["alice"], _buckets(("results", "readwrite")))
    assert s3_error_code(key.key.access_key_id, key.secret) is None  # ListBuckets answers (empty)
    assert key.key.subuser == "" and key.key.rgw_user == "k" + key.key.access_key_id.lower()
    assert key_reveal_secret(key=key.key, actor=world["alice"].user) == key.secret
    # No write of the project user: the member got no subuser for it (only the manager has one).
    subusers = storage._client().get_user(uid=storage.uid(world["project"].tenant))["subusers"]
    assert Membership.objects.get(pk=world["alice"].pk).rgw_access == "" and len(subusers) == 1


def test_a_role_change_ceph_refused_is_applied_by_the_retry(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = world["alice"]
    key = Key(alice, _buckets(("raw", "readwrite")))

    def down(**kwargs: object) -> None:
        raise storage.StorageUnavailable("down")

    with monkeypatch.context() as patched:
        patched.setattr(storage, "scoped_user_writes", down)
        membership_set_role(membership=alice, role=Role.READ_ONLY)
    assert Membership.objects.get(pk=alice.pk).rgw_access == STALE
    # The lower role did not reach the key's user: the key is revoked instead (M2).
    assert wait_refused(key.key.access_key_id, key.secret) == "InvalidAccessKeyId"
    assert memberships_apply_stale() == {"applied": 1, "failed": 0, "reader_keys_ended": 0}
    again = Key(Membership.objects.get(pk=alice.pk), _buckets(("raw", "read")))
    assert again.can("raw") == "r"
