"""Projects in RGW accounts (Ceph 19 and later), through Latchkey's own services, against the real
radosgw 20: the fixed cast as S3 sees it, rules that follow people, grants across projects and
models, and each key's end kept by Ceph itself with nothing of Latchkey running."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
import requests
from allauth.account.models import EmailAddress
from botocore.exceptions import ClientError
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from buckets.grants import GrantRequest, grant_create
from buckets.groups import group_create, group_set_members
from buckets.inventory import project_refresh_usage
from buckets.links import link_create
from buckets.models import Bucket, Grant
from buckets.services import bucket_create, bucket_set_members_access
from buckets.sync import policies_check, policies_sync_dirty
from keys.models import AccessKey
from keys.reconcile import keys_reconcile
from keys.scopes import scope_from
from keys.services import key_delete, key_extend, key_reveal_secret
from lifecycle.keys import key_create
from lifecycle.memberships import membership_set_role
from projects.models import Membership, Project, Role
from projects.quota import project_set_quota
from projects.services import project_create
from storage import accounts, client, homes

pytestmark = [pytest.mark.django_db, pytest.mark.ceph, pytest.mark.accounts]


class Holder:
    def __init__(self, membership: Membership, **scope: Any) -> None:
        issued = key_create(membership=membership, hours=2, description="accounts test", **scope)
        self.key, self.secret = issued.key, issued.secret
        self.s3 = client.allow_tenant_buckets(
            client.s3_client(access_key=self.key.access_key_id, secret_key=self.secret)
        )

    def code(self, call: str, endpoint: str | None = None, **kwargs: Any) -> str:
        s3 = (
            self.s3
            if endpoint is None
            else client.s3_client(access_key=self.key.access_key_id, secret_key=self.secret, endpoint=endpoint)
        )
        try:
            answer = getattr(s3, call)(**kwargs)
        except ClientError as exc:
            return str(exc.response["Error"]["Code"])
        errors = answer.get("Errors") if isinstance(answer, dict) else None
        return str(errors[0]["Code"]) if errors else "ok"

    def can(self, bucket: str) -> str:
        read = (
            self.code("list_objects_v2", Bucket=bucket) == "ok"
            and self.code("get_object", Bucket=bucket, Key="seed") == "ok"
        )
        write = self.code("put_object", Bucket=bucket, Key=f"w-{self.key.access_key_id}", Body=b"w") == "ok"
        return "rw" if read and write else "r" if read else "w" if write else "-"


def _project(unique: Callable[[], str], model: str) -> Project:
    number = unique()
    return project_create(number=number, title=f"{model} {number}", tenant=f"t{number}", storage_model=model)


@pytest.fixture
def world(unique: Callable[[], str], make_user: Callable[..., User]) -> dict[str, Any]:
    w: dict[str, Any] = {
        "a": _project(unique, "account"),
        "t": _project(unique, "tenant"),
        "b": _project(unique, "account"),
    }
    cast = {"manager": Role.MANAGER, "deputy": Role.DEPUTY, "alice": Role.MEMBER, "carol": Role.READ_ONLY}
    people = [(name, "a", role) for name, role in cast.items()]
    people += [("tom", "t", Role.MEMBER), ("bob", "b", Role.MEMBER), ("dave", "b", Role.READ_ONLY)]
    for name, project, role in people:
        user = make_user(name, email=f"{name}@example.org")
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        w[name] = Membership.objects.create(user=user, project=w[project], role=role)
    w["data"] = bucket_create(membership=w["manager"], name=f"data-{secrets.token_hex(4)}")
    w["closed"] = bucket_create(membership=w["manager"], name=f"closed-{secrets.token_hex(4)}")
    bucket_set_members_access(bucket=w["closed"], members_access=Bucket.MembersAccess.NONE)
    w["a"].refresh_from_db()
    owner = Holder(w["manager"])
    for bucket in ("data", "closed"):
        owner.s3.put_object(Bucket=w[bucket].name, Key="seed", Body=b"seed")
    return w


def test_the_cast_as_s3_sees_it_on_an_account(world: dict[str, Any]) -> None:
    w = world
    assert w["a"].rgw_account.startswith("RGW") and w["a"].rgw_provisioned
    data, closed = w["data"].name, w["closed"].name
    cast = {name: Holder(w[name]) for name in ("manager", "deputy", "alice", "carol", "tom", "bob")}
    seen = {name: (holder.can(data), holder.can(closed)) for name, holder in cast.items()}
    everything, nothing = ("rw", "rw"), ("-", "-")
    assert seen == {
        "manager": everything,
        "deputy": everything,
        "alice": ("rw", "-"),
        "carol": ("r", "-"),
        "tom": nothing,
        "bob": nothing,
    }
    carol = cast["carol"]
    assert carol.key.rgw_user and carol.key.scope == AccessKey.Scope.READ_ONLY
    cors = {"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]}
    writes: list[tuple[str, dict[str, Any]]] = [
        ("create_bucket", {"Bucket": f"ro-{secrets.token_hex(4)}"}),
        ("put_bucket_versioning", {"Bucket": data, "VersioningConfiguration": {"Status": "Enabled"}}),
        ("put_bucket_cors", {"Bucket": data, "CORSConfiguration": cors}),
        ("put_bucket_tagging", {"Bucket": data, "Tagging": {"TagSet": [{"Key": "k", "Value": "v"}]}}),
        ("delete_object", {"Bucket": data, "Key": "seed"}),
        ("delete_objects", {"Bucket": data, "Delete": {"Objects": [{"Key": "seed"}]}}),
        ("create_multipart_upload", {"Bucket": data, "Key": "m"}),
        ("copy_object", {"Bucket": data, "Key": "c", "CopySource": f"{data}/seed"}),
    ]
    for call, kwargs in writes:
        assert carol.code(call, **kwargs) == "AccessDenied", call
    # Members make buckets and list the project's; a bucket made over S3 belongs to the account.
    made = f"by-alice-{secrets.token_hex(4)}"
    assert cast["alice"].code("create_bucket", Bucket=made) == "ok"
    assert made in {b["Name"] for b in cast["carol"].s3.list_buckets()["Buckets"]}
    project_refresh_usage(project=w["a"])
    assert Bucket.objects.filter(project=w["a"], name=made).exists()


def test_rules_follow_people_into_their_keys(world: dict[str, Any], django_capture_on_commit_callbacks: Any) -> None:
    w = world
    alice = Holder(w["alice"])
    closed = w["closed"].name
    assert alice.can(closed) == "-"
    to_alice = GrantRequest(kind=Grant.Kind.MEMBER, access="read", member_id=w["alice"].pk)
    grant_create(actor=w["manager"].user, bucket=w["closed"], request=to_alice)
    assert alice.can(closed) == "r"
    with django_capture_on_commit_callbacks(execute=True):
        membership_set_role(membership=w["alice"], role=Role.READ_ONLY)
    # The same key, now read-only: its own policy holds it to that (no key of a subuser to end).
    assert alice.can(w["data"].name) == "r"
    assert AccessKey.objects.get(pk=alice.key.pk).status == AccessKey.Status.ACTIVE
    # A member's key follows its owner up again; a key made read-only stays what it was made as.
    reader = Holder(w["alice"])
    membership_set_role(membership=w["alice"], role=Role.MANAGER)
    assert (alice.can(closed), reader.can(closed)) == ("rw", "r")


def test_a_key_limited_to_one_bucket(world: dict[str, Any]) -> None:
    w = world
    scope = scope_from(AccessKey.Scope.BUCKETS, [(w["data"].name, "read")])
    key = Holder(w["alice"], scope=scope)
    assert (key.can(w["data"].name), key.can(w["closed"].name)) == ("r", "-")
    assert key.code("list_buckets") == "AccessDenied"  # it is told no bucket names
    with pytest.raises(Exception, match="no access to bucket"):
        Holder(w["alice"], scope=scope_from(AccessKey.Scope.BUCKETS, [(w["closed"].name, "read")]))


def test_ceph_ends_a_key_at_its_end_with_nothing_of_latchkey_running(world: dict[str, Any]) -> None:
    w = world
    holder = Holder(w["alice"])
    out = StringIO()
    call_command("key_set_expiry", holder.key.access_key_id, "--in", "4", stdout=out)
    ends = AccessKey.objects.get(pk=holder.key.pk).expires_at
    endpoints = [url for _, url in settings.LATCHKEY_S3_ENDPOINTS]
    bucket = w["data"].name
    assert {holder.code("list_objects_v2", url, Bucket=bucket) for url in endpoints} == {"ok"}
    while timezone.now() < ends:
        time.sleep(0.05)
    refused: dict[str, float] = {}
    while len(refused) < len(endpoints) and (timezone.now() - ends).total_seconds() < 1.5:
        for url in endpoints:
            if url not in refused and holder.code("list_objects_v2", url, Bucket=bucket) == "AccessDenied":
                refused[url] = (timezone.now() - ends).total_seconds()
        time.sleep(0.02)
    # No sweep, no worker, no job ran: the key's own policy ended it (within a second: Ceph
    # reads the time in whole seconds and the end is rounded up to one).
    assert set(refused) == set(endpoints)
    assert AccessKey.objects.get(pk=holder.key.pk).status == AccessKey.Status.ACTIVE


def test_extend_moves_the_end_in_ceph_and_delete_refuses_at_once(world: dict[str, Any]) -> None:
    w = world
    holder = Holder(w["alice"])
    key = key_extend(key=holder.key, hours=5, actor=w["alice"].user)
    policy = accounts.key_user_policy_get(user=key.rgw_user)
    assert policy is not None
    end = policy["Statement"][-1]["Condition"]["DateGreaterThanEquals"]["aws:CurrentTime"]
    assert end == (key.expires_at + timedelta(seconds=1)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    ) or end == key.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert key_reveal_secret(key=key, actor=w["alice"].user) == holder.secret
    key_delete(key=key, actor=w["alice"].user)
    assert holder.code("list_buckets") == "InvalidAccessKeyId"
    assert accounts.key_user_secret(user=key.rgw_user) is None


def test_grants_across_projects_and_models(world: dict[str, Any]) -> None:
    w = world
    data = w["data"].name
    for other, access in (("b", "readwrite"), ("t", "read")):
        request = GrantRequest(kind=Grant.Kind.PROJECT, access=access, project_number=w[other].number)
        grant_create(actor=w["manager"].user, bucket=w["data"], request=request)
    bob, dave, tom = Holder(w["bob"]), Holder(w["dave"]), Holder(w["tom"])
    assert (bob.can(data), dave.can(data)) == ("rw", "r")  # account to account: read-only stays read-only
    assert tom.can(f":{data}") == "r"  # a tenant's member names an account's bucket ":name"
    # The other way: a tenant's bucket granted to a project in an account.
    tenant_bucket = bucket_create(membership=w["tom"], name=f"tb-{secrets.token_hex(4)}")
    tom.s3.put_object(Bucket=tenant_bucket.name, Key="seed", Body=b"seed")
    to_a = GrantRequest(kind=Grant.Kind.PROJECT, access="readwrite", project_number=w["a"].number)
    grant_create(actor=w["tom"].user, bucket=tenant_bucket, request=to_a)
    alice, carol = Holder(w["alice"]), Holder(w["carol"])
    full = f"{w['t'].tenant}:{tenant_bucket.name}"
    assert (alice.can(full), carol.can(full)) == ("rw", "r")


def test_a_grant_to_one_user_of_a_project_in_an_account_names_each_of_their_keys(
    world: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    w = world
    solo = bucket_create(membership=w["manager"], name=f"solo-{secrets.token_hex(4)}")
    Holder(w["manager"]).s3.put_object(Bucket=solo.name, Key="seed", Body=b"seed")
    tom = Holder(w["tom"])
    tenant_bucket = bucket_create(membership=w["tom"], name=f"tb-{secrets.token_hex(4)}")
    tom.s3.put_object(Bucket=tenant_bucket.name, Key="seed", Body=b"seed")
    full = f"{w['t'].tenant}:{tenant_bucket.name}"
    before, dave = Holder(w["bob"]), Holder(w["dave"])  # bob's key from before the grants
    to_bob = {"kind": Grant.Kind.PROJECT_USER, "project_number": w["b"].number, "user": "bob@example.org"}
    grant_create(actor=w["manager"].user, bucket=solo, request=GrantRequest(access="read", **to_bob))
    grant_create(actor=w["tom"].user, bucket=tenant_bucket, request=GrantRequest(access="readwrite", **to_bob))
    after = Holder(w["bob"])  # named in both policies before it is handed out
    # Account to account and tenant to account; the other member of bob's project gets nothing.
    assert (before.can(solo.name), after.can(solo.name), dave.can(solo.name)) == ("r", "r", "-")
    assert (before.can(full), after.can(full), dave.can(full)) == ("rw", "rw", "-")
    # A key scoped to bob's own buckets stays in them, grant or not (its own policy holds it).
    own = bucket_create(membership=w["bob"], name=f"bob-{secrets.token_hex(4)}")
    scoped = Holder(w["bob"], scope=scope_from(AccessKey.Scope.BUCKETS, [(own.name, "readwrite")]))
    scoped.s3.put_object(Bucket=own.name, Key="seed", Body=b"seed")
    assert (scoped.can(own.name), scoped.can(solo.name)) == ("rw", "-")
    # A key that ends leaves both policies: nothing in Ceph names a removed user.
    with django_capture_on_commit_callbacks(execute=True):
        key_delete(key=before.key, actor=w["bob"].user)
    policies_sync_dirty()
    gone = before.key.rgw_user
    for bucket in (solo, tenant_bucket):
        text = str(homes.bucket_policy_get(bucket.project.home, name=bucket.name))
        assert gone not in text and after.key.rgw_user in text
    assert after.can(solo.name) == "r"


def test_quota_and_usage_are_the_accounts(world: dict[str, Any]) -> None:
    w = world
    project = w["a"]
    project_refresh_usage(project=project)  # the account's figures synced: the gateway counts from them
    project_set_quota(project=project, quota_bytes=10 * 2**30, max_objects=2)  # the two seeds
    holder = Holder(w["alice"])
    endpoint = settings.LATCHKEY_S3_ENDPOINT  # one gateway: each counts on its own until stats sync
    assert holder.code("put_object", endpoint, Bucket=w["data"].name, Key="one", Body=b"12345") == "QuotaExceeded"
    project_set_quota(project=project, quota_bytes=None, max_objects=None)
    assert holder.code("put_object", endpoint, Bucket=w["data"].name, Key="one", Body=b"12345") == "ok"
    project_refresh_usage(project=project)
    project.refresh_from_db()
    assert (project.usage_objects, project.usage_bytes) == (3, 4 + 4 + 5)


def test_a_key_policy_changed_by_hand_is_restored_and_the_reconciler_knows_account_keys(
    world: dict[str, Any],
) -> None:
    w = world
    holder = Holder(w["carol"])
    user = holder.key.rgw_user
    wide = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    accounts.key_user_policy_put(user=user, policy=wide)
    assert holder.can(w["data"].name) == "rw"  # what drift would give
    assert policies_check()["failed"] == 0
    assert holder.can(w["data"].name) == "r"
    # A key user Latchkey has no row for is reported (and removed when asked); a key whose user
    # is gone from Ceph is marked revoked.
    stray_id = "LK" + secrets.token_hex(9).upper()
    stray = "k" + stray_id.lower()
    accounts.key_user_create(account_id=w["a"].rgw_account, user=stray, access_key=stray_id, policy=wide)
    accounts.key_user_remove(user=user)
    later = timezone.now() + timedelta(minutes=10)  # past the creation grace
    report = keys_reconcile(now=later)
    assert ("-", stray, "") in report.unknown and holder.key.access_key_id in report.missing
    keys_reconcile(remove_unknown=True, now=later)
    assert accounts.key_user_secret(user=stray) is None
    assert AccessKey.objects.get(pk=holder.key.pk).status == AccessKey.Status.REVOKED


def test_group_grants_addresses_and_ends_are_in_the_keys_and_ceph_keeps_the_end(world: dict[str, Any]) -> None:
    w = world
    closed = w["closed"].name
    alice, carol = Holder(w["alice"]), Holder(w["carol"])
    group = group_create(project=w["a"], name="analysis")
    group_set_members(group=group, membership_ids=[w["alice"].pk, w["carol"].pk])
    policies_sync_dirty(project=w["a"])
    ends = timezone.now().replace(microsecond=0) + timedelta(seconds=3)
    by_group = GrantRequest(kind=Grant.Kind.GROUP, access="readwrite", group_id=group.pk, expires_at=ends)
    grant_create(actor=w["manager"].user, bucket=w["closed"], request=by_group)
    elsewhere = GrantRequest(
        kind=Grant.Kind.MEMBER, access="readwrite", member_id=w["deputy"].pk, cidrs=["10.9.0.0/16"]
    )
    grant_create(actor=w["manager"].user, bucket=w["data"], request=elsewhere)  # a deputy is never narrowed
    assert (alice.can(closed), carol.can(closed)) == ("rw", "r")  # the role still caps the group's grant
    while timezone.now() < ends + timedelta(seconds=1):
        time.sleep(0.05)
    # No task removed the grant: each key's own policy denies the bucket from the grant's end.
    assert (alice.can(closed), carol.can(closed)) == ("-", "-")
    assert Grant.objects.filter(bucket=w["closed"]).count() == 1


def test_public_grants_and_links_on_an_account(world: dict[str, Any]) -> None:
    w = world
    public = GrantRequest(kind=Grant.Kind.PUBLIC, access="read", public_confirmed=True)
    grant_create(actor=w["manager"].user, bucket=w["data"], request=public)
    url = f"{settings.LATCHKEY_S3_ENDPOINT}/{w['data'].name}/seed"
    assert requests.get(url, timeout=10).status_code == 200
    assert requests.put(url, data=b"x", timeout=10).status_code == 403
    holder = Holder(w["carol"])
    link = link_create(
        membership=w["carol"], bucket=w["closed"], access_key_id=holder.key.access_key_id, object_key="seed", hours=1
    )
    assert requests.get(link.url, timeout=10).status_code == 403  # she may not read it: neither may her link
    link = link_create(
        membership=w["carol"], bucket=w["data"], access_key_id=holder.key.access_key_id, object_key="seed", hours=1
    )
    assert requests.get(link.url, timeout=10).content == b"seed"
    key_delete(key=holder.key, actor=w["carol"].user)
    assert requests.get(link.url, timeout=10).status_code == 403
