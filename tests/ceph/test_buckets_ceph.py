"""Grants, for real: keys of real members against the test stack's Ceph. For every kind of grant
the grantee can do what was granted and nothing more, and loses it when the grant ends."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from allauth.account.models import EmailAddress
from botocore.exceptions import ClientError
from django.conf import settings
from django.utils import timezone

from accounts.models import User
from buckets.errors import BucketError
from buckets.grants import GrantRequest, grant_create, grant_revoke, grants_expire
from buckets.groups import group_create, group_set_members
from buckets.links import link_create
from buckets.models import Bucket, Grant
from buckets.policy import EVERY_BUCKET_SIDS
from buckets.services import bucket_create, bucket_set_members_access
from buckets.sync import bucket_locked, bucket_policy_sync, policies_check, policies_sync_dirty
from keys.configs import ClientSettings, rclone_config
from keys.services import key_delete
from lifecycle.keys import key_create
from lifecycle.memberships import membership_set_role
from projects.models import Membership, Project, Role
from storage import client as storage
from tests.support.ceph import access_statements

pytestmark = [pytest.mark.django_db, pytest.mark.ceph]


class Person:
    """A member with a real key, and an S3 client that can name other tenants' buckets."""

    def __init__(self, membership: Membership) -> None:
        issued = key_create(membership=membership, hours=2, description="grant test")
        self.membership, self.key, self.secret = membership, issued.key, issued.secret
        self.s3 = storage.allow_tenant_buckets(
            storage.s3_client(access_key=issued.key.access_key_id, secret_key=issued.secret)
        )

    def can(self, bucket: str) -> str:
        """What this key may do in ``bucket``: "rw", "r" or "-" (nothing), tried for real."""
        read = write = True
        try:
            self.s3.list_objects_v2(Bucket=bucket)
            self.s3.get_object(Bucket=bucket, Key="seed.txt")["Body"].read()
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "AccessDenied", exc.response
            read = False
        try:
            self.s3.put_object(Bucket=bucket, Key=f"w-{self.key.access_key_id}", Body=b"w")
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "AccessDenied", exc.response
            write = False
        return "rw" if read and write else "r" if read else "w" if write else "-"


@pytest.fixture
def world(unique: Callable[[], str], make_user: Callable[..., User]) -> dict[str, Any]:
    """Project A with a manager, a deputy, two members and a read-only member; project B with
    two members; a bucket of A with one object; everyone holding a real key."""
    a = Project.objects.create(number=unique(), title="A", tenant=f"ta{unique()}")
    b = Project.objects.create(number=unique(), title="B", tenant=f"tb{unique()}")
    people: dict[str, Any] = {"a": a, "b": b}
    for name, project, role in [
        ("manager", a, Role.MANAGER),
        ("deputy", a, Role.DEPUTY),
        ("alice", a, Role.MEMBER),
        ("bob", a, Role.MEMBER),
        ("reader", a, Role.READ_ONLY),
        ("carol", b, Role.MEMBER),
        ("dave", b, Role.MEMBER),
    ]:
        user = make_user(name, email=f"{name}@example.org")
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)  # as their IdP gave it
        membership = Membership.objects.create(user=user, project=project, role=role)
        people[name] = Person(membership)
    bucket = bucket_create(membership=people["manager"].membership, name="shared-data")
    people["manager"].s3.put_object(Bucket="shared-data", Key="seed.txt", Body=b"seed")
    people["bucket"], people["full"] = bucket, f"{a.tenant}:shared-data"
    return people


def _grant(w: dict[str, Any], **fields: Any) -> Grant:
    return grant_create(actor=w["manager"].membership.user, bucket=w["bucket"], request=GrantRequest(**fields))


def test_default_bucket_is_for_all_members_by_role_and_nobody_else(world: dict[str, Any]) -> None:
    w, full = world, world["full"]
    assert [w[p].can(full) for p in ("manager", "deputy", "alice", "bob")] == ["rw"] * 4
    assert w["reader"].can(full) == "r"
    assert w["carol"].can(full) == "-"
    # The only statement: the read-only member's key (a user of its own) reads it.
    statements = access_statements(storage.bucket_policy_get(tenant=w["a"].tenant, name="shared-data"))
    assert [(s["Sid"], s["Principal"]["AWS"]) for s in statements] == [
        ("latchkey-key-read-0", [f"arn:aws:iam::{w['a'].tenant}:user/{w['reader'].key.rgw_user}"])
    ]


def test_restricted_bucket_refuses_other_members_but_not_managers(world: dict[str, Any]) -> None:
    w, full = world, world["full"]
    bucket_set_members_access(bucket=w["bucket"], members_access=Bucket.MembersAccess.NONE)
    grant = _grant(w, kind=Grant.Kind.MEMBER, access="readwrite", member_id=w["alice"].membership.pk)
    assert {p: w[p].can(full) for p in ("manager", "deputy", "alice", "bob", "reader")} == {
        "manager": "rw",
        "deputy": "rw",
        "alice": "rw",
        "bob": "-",
        "reader": "-",
    }
    grant_revoke(actor=w["manager"].membership.user, grant=grant)
    assert w["alice"].can(full) == "-"
    bucket_set_members_access(bucket=w["bucket"], members_access=Bucket.MembersAccess.READ)
    assert (w["alice"].can(full), w["bob"].can(full), w["manager"].can(full)) == ("r", "r", "rw")


def test_member_grant_can_be_read_only(world: dict[str, Any]) -> None:
    w, full = world, world["full"]
    bucket_set_members_access(bucket=w["bucket"], members_access=Bucket.MembersAccess.NONE)
    _grant(w, kind=Grant.Kind.MEMBER, access="read", member_id=w["bob"].membership.pk)
    assert (w["bob"].can(full), w["alice"].can(full)) == ("r", "-")


def test_another_project_reads_then_writes_then_loses_access(world: dict[str, Any]) -> None:
    w, full = world, world["full"]
    grant = _grant(w, kind=Grant.Kind.PROJECT, access="read", project_number=w["b"].number)
    assert (w["carol"].can(full), w["dave"].can(full)) == ("r", "r")
    grant_revoke(actor=w["manager"].membership.user, grant=grant)
    assert w["carol"].can(full) == "-"
    _grant(w, kind=Grant.Kind.PROJECT, access="readwrite", project_number=w["b"].number)
    assert w["carol"].can(full) == "rw"
    assert w["bob"].can(full) == "rw"  # the project's own members are untouched


def test_one_user_of_another_project(world: dict[str, Any]) -> None:
    w, full = world, world["full"]
    _grant(w, kind=Grant.Kind.PROJECT_USER, access="read", project_number=w["b"].number, user="dave@example.org")
    assert (w["dave"].can(full), w["carol"].can(full)) == ("r", "-")


def test_group_change_resyncs_the_policy(world: dict[str, Any]) -> None:
    w, full = world, world["full"]
    group = group_create(project=w["a"], name="analysis")
    bucket_set_members_access(bucket=w["bucket"], members_access=Bucket.MembersAccess.NONE)
    _grant(w, kind=Grant.Kind.GROUP, access="readwrite", group_id=group.pk)
    assert w["alice"].can(full) == "-"
    assert group_set_members(group=group, membership_ids=[w["alice"].membership.pk]) == 1
    assert Bucket.objects.get(pk=w["bucket"].pk).policy_dirty
    assert policies_sync_dirty(project=w["a"]) == {"written": 1, "unchanged": 0, "failed": 0}
    assert (w["alice"].can(full), w["bob"].can(full)) == ("rw", "-")
    group_set_members(group=group, membership_ids=[w["bob"].membership.pk])
    policies_sync_dirty(project=w["a"])
    assert (w["alice"].can(full), w["bob"].can(full)) == ("-", "rw")


def test_public_read_for_anonymous_and_nothing_else(world: dict[str, Any]) -> None:
    w = world
    url = f"{storage.settings.LATCHKEY_S3_ENDPOINT}/{w['full']}/seed.txt"
    assert requests.get(url, timeout=10).status_code == 403
    grant = _grant(w, kind=Grant.Kind.PUBLIC, access="readwrite", public_confirmed=True)
    assert grant.access == "read"  # the public only ever reads
    assert requests.get(url, timeout=10).content == b"seed"
    assert (
        requests.put(f"{storage.settings.LATCHKEY_S3_ENDPOINT}/{w['full']}/x", data=b"x", timeout=10).status_code == 403
    )
    grant_revoke(actor=w["manager"].membership.user, grant=grant)
    assert requests.get(url, timeout=10).status_code == 403


def test_address_limits_are_enforced_by_ceph(world: dict[str, Any]) -> None:
    w, full = world, world["full"]
    # The tests reach Ceph from 127.0.0.1.
    for user, cidr in (("carol@example.org", "10.0.0.0/8"), ("dave@example.org", "127.0.0.0/8")):
        _grant(w, kind=Grant.Kind.PROJECT_USER, access="read", project_number=w["b"].number, user=user, cidrs=[cidr])
    assert (w["carol"].can(full), w["dave"].can(full)) == ("-", "r")
    bucket_set_members_access(bucket=w["bucket"], members_access=Bucket.MembersAccess.NONE)
    _grant(w, kind=Grant.Kind.MEMBER, access="readwrite", member_id=w["alice"].membership.pk, cidrs=["10.1.0.0/16"])
    _grant(w, kind=Grant.Kind.MEMBER, access="readwrite", member_id=w["bob"].membership.pk, cidrs=["127.0.0.1/32"])
    assert (w["alice"].can(full), w["bob"].can(full)) == ("-", "rw")


def test_grant_ends_at_its_time_in_ceph_and_is_then_removed(world: dict[str, Any]) -> None:
    w, full = world, world["full"]
    ends = timezone.now().replace(microsecond=0) + timedelta(seconds=3)
    _grant(w, kind=Grant.Kind.PROJECT, access="read", project_number=w["b"].number, expires_at=ends)
    assert w["carol"].can(full) == "r"
    time.sleep(max(0.0, (ends - timezone.now()).total_seconds()) + 1.2)
    assert w["carol"].can(full) == "-"  # Ceph itself stopped honouring it (aws:CurrentTime)
    assert grants_expire(now=timezone.now()) == {"expired": 1, "failed": 0}
    statements = access_statements(storage.bucket_policy_get(tenant=w["a"].tenant, name="shared-data"))
    assert [s["Sid"] for s in statements] == ["latchkey-key-read-0"]  # the reader's key; no grant


def test_member_and_group_grants_end_at_their_time_in_ceph(world: dict[str, Any]) -> None:
    """Before the minute task has removed them: Ceph denies from the grant's end on (a Deny with
    DateGreaterThan aws:CurrentTime). Alice's read-write grant ends first, her read grant through
    the group later; Bob's permanent grant is untouched."""
    w, full = world, world["full"]
    bucket_set_members_access(bucket=w["bucket"], members_access=Bucket.MembersAccess.NONE)
    group = group_create(project=w["a"], name="readers")
    group_set_members(group=group, membership_ids=[w["alice"].membership.pk])
    first = timezone.now().replace(microsecond=0) + timedelta(seconds=3)
    second = first + timedelta(seconds=3)
    _grant(w, kind=Grant.Kind.MEMBER, access="readwrite", member_id=w["alice"].membership.pk, expires_at=first)
    _grant(w, kind=Grant.Kind.GROUP, access="read", group_id=group.pk, expires_at=second)
    _grant(w, kind=Grant.Kind.MEMBER, access="read", member_id=w["bob"].membership.pk)
    assert (w["alice"].can(full), w["bob"].can(full)) == ("rw", "r")
    time.sleep(max(0.0, (first - timezone.now()).total_seconds()) + 1.2)
    assert (w["alice"].can(full), w["bob"].can(full)) == ("r", "r")  # no task ran: Ceph did it
    time.sleep(max(0.0, (second - timezone.now()).total_seconds()) + 1.2)
    assert (w["alice"].can(full), w["bob"].can(full)) == ("-", "r")
    assert grants_expire(now=timezone.now()) == {"expired": 2, "failed": 0}
    assert (w["alice"].can(full), w["bob"].can(full)) == ("-", "r")


def test_a_member_being_removed_stays_denied_until_their_keys_are_gone(world: dict[str, Any]) -> None:
    """Ending a membership revokes the keys first; if Ceph stops that part-way the membership
    waits as ENDING with a key still in Ceph, and a policy rewrite meanwhile must keep it out."""
    w, full = world, world["full"]
    bucket_set_members_access(bucket=w["bucket"], members_access=Bucket.MembersAccess.NONE)
    _grant(w, kind=Grant.Kind.MEMBER, access="readwrite", member_id=w["alice"].membership.pk)
    assert w["alice"].can(full) == "rw"
    Membership.objects.filter(pk=w["alice"].membership.pk).update(status=Membership.Status.ENDING)
    bucket_policy_sync(bucket_locked(w["bucket"].pk))
    assert w["alice"].can(full) == "-"  # her key still exists in Ceph, the policy denies it
    assert w["bob"].can(full) == "-" and w["manager"].can(full) == "rw"


def _readers_statement(other: str) -> dict[str, Any]:
    """A person's own statement: project ``other``'s members may read shared-data."""
    return {
        "Sid": "mine",
        "Effect": "Allow",
        "Principal": {"AWS": [f"arn:aws:iam::{other}:user/{other}"]},
        "Action": ["s3:GetObject", "s3:ListBucket"],
        "Resource": ["arn:aws:s3:::shared-data", "arn:aws:s3:::shared-data/*"],
    }


def test_people_statements_that_reach_too_far_or_outlive_their_manager_go(world: dict[str, Any]) -> None:
    """L9: a hand-written Allow for everyone or for the project's whole tenant (which reaches its
    scoped keys past their scope) is left out at the next write; the rest of people's statements
    go when someone stops managing the project. The managers who remain are shown each one."""
    w, tenant = world, world["a"].tenant
    other = w["b"].tenant
    mine = _readers_statement(other)
    wide = {**mine, "Sid": "wide", "Principal": {"AWS": [f"arn:aws:iam::{tenant}:root"]}, "Action": ["s3:*"]}
    public = {**mine, "Sid": "public", "Principal": "*", "Action": ["s3:GetObject"]}
    policies_sync_dirty(project=w["a"])
    held = storage.bucket_policy_get(tenant=tenant, name="shared-data") or {"Statement": []}
    by_hand = {"Version": "2012-10-17", "Statement": [mine, wide, public, *held["Statement"]]}
    storage.bucket_policy_put(tenant=tenant, name="shared-data", policy=by_hand)
    assert requests.get(_object_url(tenant), timeout=10).status_code == 200  # published by hand
    assert policies_check()["written"] >= 1
    sids = [s["Sid"] for s in storage.bucket_policy_get(tenant=tenant, name="shared-data")["Statement"]]  # type: ignore[index]
    assert "mine" in sids and "wide" not in sids and "public" not in sids and w["carol"].can(w["full"]) == "r"
    assert requests.get(_object_url(tenant), timeout=10).status_code == 403
    bucket = Bucket.objects.get(pk=w["bucket"].pk)
    assert sorted(i["statement"]["Sid"] for i in bucket.policy_left_out) == ["public", "wide"]
    # The deputy steps down: what people wrote may be theirs, so it goes too.
    membership_set_role(membership=w["deputy"].membership, role=Role.MEMBER)
    assert Bucket.objects.get(pk=bucket.pk).policy_dirty
    policies_sync_dirty(project=w["a"])
    sids = [s["Sid"] for s in storage.bucket_policy_get(tenant=tenant, name="shared-data")["Statement"]]  # type: ignore[index]
    assert "mine" not in sids and w["carol"].can(w["full"]) == "-"
    left = Bucket.objects.get(pk=bucket.pk).policy_left_out
    assert [i["statement"]["Sid"] for i in left] == ["mine"] and "stopped managing" in left[0]["reason"]
    # Written again by a manager who is still one, it stays.
    again = storage.bucket_policy_get(tenant=tenant, name="shared-data") or {"Statement": []}
    storage.bucket_policy_put(
        tenant=tenant, name="shared-data", policy={**again, "Statement": [mine, *again["Statement"]]}
    )
    policies_check()
    assert w["carol"].can(w["full"]) == "r"


def _object_url(tenant: str) -> str:
    return f"{settings.LATCHKEY_S3_ENDPOINTS[0][1]}/{tenant}:shared-data/seed.txt"


def test_a_grant_by_address_needs_one_member_with_it_verified(world: dict[str, Any]) -> None:
    """L6: an address nobody verified, or one two members share, names no one."""
    w = world
    EmailAddress.objects.filter(user=w["dave"].membership.user).update(verified=False)
    with pytest.raises(BucketError, match="has this user name or verified e-mail address"):
        _grant(w, kind=Grant.Kind.PROJECT_USER, access="read", project_number=w["b"].number, user="dave@example.org")
    EmailAddress.objects.create(user=w["carol"].membership.user, email="shared@example.org", verified=True)
    EmailAddress.objects.create(user=w["dave"].membership.user, email="shared@example.org", verified=True)
    with pytest.raises(BucketError, match="More than one member"):
        _grant(w, kind=Grant.Kind.PROJECT_USER, access="read", project_number=w["b"].number, user="shared@example.org")
    grant = _grant(
        w,
        kind=Grant.Kind.PROJECT_USER,
        access="read",
        project_number=w["b"].number,
        user=w["dave"].membership.user.username,
    )
    assert grant.grantee_user == w["dave"].membership.user


def test_people_statements_survive_and_drift_is_restored(world: dict[str, Any]) -> None:
    w, tenant = world, world["a"].tenant
    other = w["b"].tenant
    mine = _readers_statement(other)
    storage.bucket_policy_put(tenant=tenant, name="shared-data", policy={"Version": "2012-10-17", "Statement": [mine]})
    grant = _grant(
        w, kind=Grant.Kind.PROJECT_USER, access="readwrite", project_number=w["b"].number, user="dave@example.org"
    )
    sids = [s["Sid"] for s in storage.bucket_policy_get(tenant=tenant, name="shared-data")["Statement"]]  # type: ignore[index]
    assert sids == ["mine", f"latchkey-grant-{grant.pk}", "latchkey-key-read-0", *EVERY_BUCKET_SIDS]
    # Someone removes Latchkey's statement by hand; the periodic check puts it back.
    storage.bucket_policy_put(tenant=tenant, name="shared-data", policy={"Version": "2012-10-17", "Statement": [mine]})
    assert w["dave"].can(w["full"]) == "r"  # only the hand-written read remains
    assert policies_check()["written"] >= 1
    assert w["dave"].can(w["full"]) == "rw"
    grant_revoke(actor=w["manager"].membership.user, grant=grant)
    kept = storage.bucket_policy_get(tenant=tenant, name="shared-data")
    assert (
        kept is not None
        and kept["Statement"][0] == mine
        and [s["Sid"] for s in access_statements(kept)] == ["mine", "latchkey-key-read-0"]
    )


def test_a_new_member_is_denied_a_restricted_bucket_from_their_first_key(
    world: dict[str, Any], make_user: Callable[..., User]
) -> None:
    w = world
    bucket_set_members_access(bucket=w["bucket"], members_access=Bucket.MembersAccess.NONE)
    newcomer = Person(Membership.objects.create(user=make_user("newcomer"), project=w["a"], role=Role.MEMBER))
    assert newcomer.can(w["full"]) == "-"


def test_other_project_reaches_the_bucket_as_tenant_colon_bucket_with_rclone(
    world: dict[str, Any], tmp_path: Path
) -> None:
    w = world
    _grant(w, kind=Grant.Kind.PROJECT, access="readwrite", project_number=w["b"].number)
    carol = w["carol"]
    config = tmp_path / "rclone.conf"
    config.write_text(
        rclone_config(
            ClientSettings(
                carol.key.access_key_id, carol.secret, storage.settings.LATCHKEY_S3_ENDPOINT, storage.region()
            ),
            remote="b",
        )
    )
    env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}  # rclone 1.60 fails with it set

    def rclone(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["rclone", "--config", str(config), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )

    assert rclone("cat", f"b:{w['full']}/seed.txt").stdout == "seed"
    upload = tmp_path / "from-b.txt"
    upload.write_text("hello from B")
    result = rclone("copyto", "--s3-no-check-bucket", str(upload), f"b:{w['full']}/from-b.txt")
    assert result.returncode == 0, result.stderr
    body = w["manager"].s3.get_object(Bucket="shared-data", Key="from-b.txt")["Body"].read()
    assert body == b"hello from B"


def test_link_is_capped_by_its_key_and_dies_with_it(world: dict[str, Any]) -> None:
    w = world
    short = key_create(membership=w["alice"].membership, hours=1, description="short").key
    link = link_create(
        membership=w["alice"].membership,
        bucket=w["bucket"],
        access_key_id=short.access_key_id,
        object_key="seed.txt",
        hours=24,
    )
    assert link.capped and link.expires_at <= short.expires_at
    assert "X-Amz-Expires=" in link.url and int(link.url.split("X-Amz-Expires=")[1].split("&")[0]) <= 3600
    assert requests.get(link.url, timeout=10).content == b"seed"
    key_delete(key=short, actor=w["alice"].membership.user)
    assert requests.get(link.url, timeout=10).status_code == 403
    long = link_create(
        membership=w["alice"].membership,
        bucket=w["bucket"],
        access_key_id=w["alice"].key.access_key_id,
        object_key="seed.txt",
        hours=1,
    )
    assert not long.capped


def test_a_ceph_failure_while_granting_changes_nothing(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    w = world
    _grant(w, kind=Grant.Kind.PROJECT, access="read", project_number=w["b"].number)
    before = storage.bucket_policy_get(tenant=w["a"].tenant, name="shared-data")

    def down(**_: Any) -> None:
        raise storage.StorageUnavailable("the storage service did not answer (put_bucket_policy)")

    monkeypatch.setattr(storage, "bucket_policy_put", down)
    with pytest.raises(storage.StorageUnavailable):
        _grant(w, kind=Grant.Kind.PUBLIC, public_confirmed=True)
    with pytest.raises(storage.StorageUnavailable):
        bucket_set_members_access(bucket=w["bucket"], members_access=Bucket.MembersAccess.NONE)
    monkeypatch.undo()
    assert list(Grant.objects.filter(bucket=w["bucket"]).values_list("kind", flat=True)) == ["project"]
    assert Bucket.objects.get(pk=w["bucket"].pk).members_access == Bucket.MembersAccess.READWRITE
    assert storage.bucket_policy_get(tenant=w["a"].tenant, name="shared-data") == before
    assert w["bob"].can(w["full"]) == "rw"
