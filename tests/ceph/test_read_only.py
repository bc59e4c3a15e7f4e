"""Read-only is read-only, as S3 sees it (issue 27), on every release the suite runs against: a
read-only member's keys make no bucket, change no bucket setting, write or delete no object,
and still read everything their owner may read, grants of other projects included. A grant to a
whole project gives its read-only members reading only. Every check is a real S3 request."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from botocore.exceptions import ClientError

from accounts.models import User
from buckets.grants import GrantRequest, grant_create
from buckets.models import Bucket, Grant
from buckets.services import bucket_create, bucket_set_members_access
from buckets.sync import policies_sync_dirty
from keys.models import AccessKey
from keys.scopes import MEMBER_SCOPE
from keys.services import KeyActionError, key_delete, key_issue
from lifecycle.keys import key_create
from lifecycle.memberships import READER_KEY_END, membership_set_role, memberships_apply_stale
from projects.models import Membership, Project, Role
from storage import client as storage
from tests.support.s3 import wait_refused

pytestmark = [pytest.mark.django_db, pytest.mark.ceph]


class Holder:
    """A key as its holder uses it, with a client that may name other tenants' buckets."""

    def __init__(self, membership: Membership) -> None:
        issued = key_create(membership=membership, hours=2, description="read-only test")
        self.key, self.secret = issued.key, issued.secret
        client = storage.s3_client(access_key=issued.key.access_key_id, secret_key=issued.secret)
        self.s3 = storage.allow_tenant_buckets(client)

    def code(self, call: Callable[..., Any], **kwargs: Any) -> str:
        try:
            answer = call(**kwargs)
        except ClientError as exc:
            return str(exc.response["Error"]["Code"])
        # DeleteObjects answers 200 on radosgw 20 and lists each refusal inside.
        errors = answer.get("Errors") if isinstance(answer, dict) else None
        return str(errors[0]["Code"]) if errors else "ok"

    def reads(self, bucket: str) -> bool:
        return self.code(self.s3.list_objects_v2, Bucket=bucket) == "ok" and (
            self.code(self.s3.get_object, Bucket=bucket, Key="seed.txt") == "ok"
        )

    def writes(self, bucket: str) -> bool:
        return self.code(self.s3.put_object, Bucket=bucket, Key=f"w-{self.key.access_key_id}", Body=b"w") == "ok"


def _writes_tried(holder: Holder, bucket: str) -> dict[str, str]:
    """Every write the issue names, tried on ``bucket``: the answer of each."""
    s3, b = holder.s3, bucket
    tags = {"TagSet": [{"Key": "k", "Value": "v"}]}
    cors = {"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]}
    tried = {
        "CreateBucket": holder.code(s3.create_bucket, Bucket=f"made-by-{holder.key.access_key_id.lower()}"),
        "PutBucketVersioning": holder.code(
            s3.put_bucket_versioning, Bucket=b, VersioningConfiguration={"Status": "Enabled"}
        ),
        "PutBucketCors": holder.code(s3.put_bucket_cors, Bucket=b, CORSConfiguration=cors),
        "DeleteBucketCors": holder.code(s3.delete_bucket_cors, Bucket=b),
        "PutBucketTagging": holder.code(s3.put_bucket_tagging, Bucket=b, Tagging=tags),
        "DeleteBucketTagging": holder.code(s3.delete_bucket_tagging, Bucket=b),
        "PutBucketRequestPayment": holder.code(
            s3.put_bucket_request_payment, Bucket=b, RequestPaymentConfiguration={"Payer": "Requester"}
        ),
        "PutObject": holder.code(s3.put_object, Bucket=b, Key="new.txt", Body=b"x"),
        "CopyObject": holder.code(s3.copy_object, Bucket=b, Key="copy.txt", CopySource=f"{b}/seed.txt"),
        "CreateMultipartUpload": holder.code(s3.create_multipart_upload, Bucket=b, Key="multi.bin"),
        "PutObjectTagging": holder.code(s3.put_object_tagging, Bucket=b, Key="seed.txt", Tagging=tags),
        "DeleteObject": holder.code(s3.delete_object, Bucket=b, Key="seed.txt"),
        "DeleteObjects": holder.code(s3.delete_objects, Bucket=b, Delete={"Objects": [{"Key": "seed.txt"}]}),
    }
    return {name: answer for name, answer in tried.items() if answer != "AccessDenied"}


@pytest.fixture
def world(unique: Callable[[], str], make_user: Callable[..., User]) -> dict[str, Any]:
    """Project A: a manager, a member and a read-only member (carol); buckets "data" (all
    members) and "closed" (the manager only). Project B: a manager, a member and a read-only
    member (dave); bucket "shared" granted read-write to all of A, bucket "carols" granted
    read-write to carol alone, and "own" for B's members. A seed object everywhere."""
    w: dict[str, Any] = {}
    w["a"] = Project.objects.create(number=unique(), title="A", tenant=f"ta{unique()}")
    w["b"] = Project.objects.create(number=unique(), title="B", tenant=f"tb{unique()}")
    for name, project, role in [
        ("amanager", w["a"], Role.MANAGER),
        ("alice", w["a"], Role.MEMBER),
        ("carol", w["a"], Role.READ_ONLY),
        ("bmanager", w["b"], Role.MANAGER),
        ("bob", w["b"], Role.MEMBER),
        ("dave", w["b"], Role.READ_ONLY),
    ]:
        user = make_user(name, email=f"{name}@example.org")
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        w[name] = Membership.objects.create(user=user, project=project, role=role)
    for manager, names in (("amanager", ("data", "closed")), ("bmanager", ("shared", "carols", "own"))):
        holder = w[f"{manager}-key"] = Holder(w[manager])
        for name in names:
            w[name] = bucket_create(membership=w[manager], name=name)
            holder.s3.put_object(Bucket=name, Key="seed.txt", Body=b"seed")
    bucket_set_members_access(bucket=w["closed"], members_access=Bucket.MembersAccess.NONE)
    to_a = GrantRequest(kind=Grant.Kind.PROJECT, access="readwrite", project_number=w["a"].number)
    to_carol = GrantRequest(
        kind=Grant.Kind.PROJECT_USER, access="readwrite", project_number=w["a"].number, user="carol@example.org"
    )
    grant_create(actor=w["bmanager"].user, bucket=w["shared"], request=to_a)
    grant_create(actor=w["bmanager"].user, bucket=w["carols"], request=to_carol)
    return w


def test_a_read_only_members_key_writes_nothing_anywhere_and_reads_all_it_may(world: dict[str, Any]) -> None:
    w = world
    carol = Holder(w["carol"])
    assert (carol.key.scope, carol.key.rgw_user) == (AccessKey.Scope.READ_ONLY, "k" + carol.key.access_key_id.lower())
    b = w["b"].tenant
    readable = {name for name in ("data", "closed", f"{b}:shared", f"{b}:carols", f"{b}:own") if carol.reads(name)}
    assert readable == {"data", f"{b}:shared", f"{b}:carols"}
    for bucket in ("data", f"{b}:shared", f"{b}:carols"):
        assert _writes_tried(carol, bucket) == {}, bucket
    # Nothing changed: the seed is there, no setting took, no bucket was made.
    owner = w["amanager-key"].s3
    assert owner.get_object(Bucket="data", Key="seed.txt")["Body"].read() == b"seed"
    assert "Status" not in owner.get_bucket_versioning(Bucket="data")
    assert owner.get_bucket_request_payment(Bucket="data")["Payer"] == "BucketOwner"
    assert {x["Name"] for x in owner.list_buckets()["Buckets"]} == {"data", "closed"}


def test_a_grant_to_a_whole_project_gives_its_read_only_members_reading_only(world: dict[str, Any]) -> None:
    w, b = world, world["b"].tenant
    alice, carol = Holder(w["alice"]), Holder(w["carol"])
    assert (alice.reads(f"{b}:shared"), alice.writes(f"{b}:shared")) == (True, True)  # writers keep the grant
    assert (carol.reads(f"{b}:shared"), carol.writes(f"{b}:shared")) == (True, False)
    # B's own read-only member is as read-only in B's bucket as anywhere.
    dave = Holder(w["dave"])
    assert (dave.reads("own"), dave.writes("own")) == (True, False)
    assert _writes_tried(dave, "own") == {}


def test_demoted_to_read_only_the_old_keys_are_refused_and_new_ones_read(
    world: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    w = world
    alice = Holder(w["alice"])
    assert alice.key.rgw_user == "" and alice.writes("data")
    with django_capture_on_commit_callbacks(execute=True):
        membership_set_role(membership=w["alice"], role=Role.READ_ONLY)
    assert wait_refused(alice.key.access_key_id, alice.secret) is not None
    alice.key.refresh_from_db()
    assert (alice.key.status, alice.key.end_reason) == (AccessKey.Status.REVOKED, READER_KEY_END)
    again = Holder(w["alice"])
    assert (again.reads("data"), again.writes("data"), again.reads(f"{w['b'].tenant}:shared")) == (True, False, True)
    # Promoted again: a new key writes; the read-only one stays what it was made as.
    membership_set_role(membership=w["alice"], role=Role.MEMBER)
    assert Holder(w["alice"]).writes("data") and not again.writes("data")


def test_a_subuser_key_a_read_only_member_still_holds_is_ended_by_the_minute_check(world: dict[str, Any]) -> None:
    w = world
    alice = Holder(w["alice"])  # a key on her subuser, as read-only members had before this rule
    Membership.objects.filter(pk=w["alice"].pk).update(role=Role.READ_ONLY)  # e.g. by an old release
    assert memberships_apply_stale()["reader_keys_ended"] == 1
    assert wait_refused(alice.key.access_key_id, alice.secret) is not None
    assert memberships_apply_stale()["reader_keys_ended"] == 0


def test_a_role_lowered_while_a_key_is_made_gets_no_subuser_key(world: dict[str, Any]) -> None:
    membership = world["alice"]
    Membership.objects.filter(pk=membership.pk).update(role=Role.READ_ONLY)  # after the caller read it
    with pytest.raises(KeyActionError, match="read-only"):
        key_issue(membership=membership, hours=1, description="raced", scope=MEMBER_SCOPE)
    assert not AccessKey.objects.filter(owner=membership.user).exists()


def test_the_other_projects_policy_stops_naming_a_read_only_key_that_ended(
    world: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    w = world
    carol = Holder(w["carol"])
    user = carol.key.rgw_user

    def named(bucket: str) -> bool:
        return user in json.dumps(storage.bucket_policy_get(tenant=w["b"].tenant, name=bucket) or {})

    assert named("shared") and named("carols") and not named("own")
    with django_capture_on_commit_callbacks(execute=True):
        key_delete(key=carol.key, actor=w["carol"].user)
    policies_sync_dirty()
    assert not named("shared") and not named("carols")
