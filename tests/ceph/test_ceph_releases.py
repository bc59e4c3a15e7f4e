"""Where Ceph releases differ in what Latchkey relies on, each release's answer, asserted by name
(docs/operators.md, "Supported Ceph releases"), and what Latchkey does so users see no difference."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError
from django.conf import settings
from django.test import Client
from django.urls import reverse

from buckets import policy
from buckets.grants import GrantRequest, grant_create
from buckets.inventory import project_refresh_usage
from buckets.models import Bucket
from buckets.services import bucket_create, bucket_set_members_access
from buckets.sync import bucket_locked, bucket_policy_sync, policies_sync_dirty
from keys.configs import ClientSettings, client_configs, remote_name
from lifecycle.keys import key_create
from projects.models import Membership, Project, Role
from storage import accounts, homes
from storage import client as storage
from tests.support import ROOT
from tests.support.ceph import ceph_release

pytestmark = [pytest.mark.django_db, pytest.mark.ceph]

SETTINGS_READS = ("get_bucket_location", "get_bucket_versioning", "get_bucket_acl")


def _s3(membership: Membership) -> tuple[Any, Any]:
    issued = key_create(membership=membership, hours=1, description="releases")
    return issued, storage.s3_client(access_key=issued.key.access_key_id, secret_key=issued.secret)


def _settings_refusals(s3: Any, bucket: str) -> list[str]:
    """The bucket-settings reads S3 refuses to this client."""
    refused = []
    for read in SETTINGS_READS:
        try:
            getattr(s3, read)(Bucket=bucket)
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "AccessDenied", exc
            refused.append(read)
    return refused


def test_members_read_bucket_settings_on_every_release(
    project: Project, member_of: Callable[..., Membership], tmp_path: Path
) -> None:
    manager, member = member_of(project, Role.MANAGER), member_of(project, Role.MEMBER)
    reader = member_of(project, Role.READ_ONLY, username="reader")
    _, as_manager = _s3(manager)
    _, as_member = _s3(member)
    issued, as_reader = _s3(reader)
    # A bucket made over S3: Latchkey has not seen it, so it has no policy yet.
    as_manager.create_bucket(Bucket="made-over-s3")
    # A subuser below `full` reads no bucket ACL by its level alone (so `s3cmd info` failed on
    # every release), and on radosgw 20 no bucket setting at all.
    before = {16: ["get_bucket_acl"], 18: ["get_bucket_acl"], 20: list(SETTINGS_READS)}[ceph_release()]
    assert _settings_refusals(as_member, "made-over-s3") == before
    # A read-only member's key is a user of its own: nothing of a bucket Latchkey has not seen.
    assert _settings_refusals(as_reader, "made-over-s3") == list(SETTINGS_READS)
    # The next usage refresh finds it and writes its policy, which allows them on every release.
    project_refresh_usage(project=project)
    assert Bucket.objects.get(project=project, name="made-over-s3").policy_dirty
    assert policies_sync_dirty(project=project)["written"] == 1
    assert _settings_refusals(as_member, "made-over-s3") == []
    assert _settings_refusals(as_reader, "made-over-s3") == []
    # A bucket made on the portal has its policy at once.
    bucket_create(membership=manager, name="made-on-portal")
    policies_sync_dirty(project=project)
    assert _settings_refusals(as_reader, "made-on-portal") == []
    # A read-only member's real clients: `s3cmd info` and `aws s3api get-bucket-location`.
    files = {
        c.client: c
        for c in client_configs(
            ClientSettings(
                issued.key.access_key_id, issued.secret, settings.LATCHKEY_S3_ENDPOINTS[0][1], storage.region()
            ),
            project_number=project.number,
        )
    }
    for name in ("s3cmd", "aws-credentials", "aws-config"):
        (tmp_path / files[name].filename).write_text(files[name].content)
    info = _run("s3cmd", "-c", str(tmp_path / files["s3cmd"].filename), "info", "s3://made-on-portal")
    assert "Location:" in info and "ACL:" in info
    env = {
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / files["aws-credentials"].filename),
        "AWS_CONFIG_FILE": str(tmp_path / files["aws-config"].filename),
    }
    aws = str(ROOT / ".venv/bin/aws")
    profile = remote_name(project.number)
    answer = _run(aws, "--profile", profile, "s3api", "get-bucket-location", "--bucket", "made-on-portal", env=env)
    assert "LocationConstraint" in answer


def _run(*args: str, env: dict[str, str] | None = None) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3CMD_"))}
    result = subprocess.run(list(args), capture_output=True, text=True, timeout=120, env={**clean, **(env or {})})
    assert result.returncode == 0, f"{args[0]} failed: {result.stdout[-1000:]} {result.stderr[-1000:]}"
    return result.stdout


def test_a_member_shut_out_of_a_bucket_reads_none_of_its_settings(
    project: Project, member_of: Callable[..., Membership]
) -> None:
    manager, member = member_of(project, Role.MANAGER), member_of(project, Role.MEMBER)
    bucket = bucket_create(membership=manager, name="closed")
    bucket_set_members_access(bucket=bucket, members_access=Bucket.MembersAccess.NONE)
    policies_sync_dirty(project=project)
    _, as_member = _s3(member)
    assert _settings_refusals(as_member, "closed") == list(SETTINGS_READS)  # the Deny wins


PRINCIPALS: dict[str, object] = {
    "user": {"AWS": "arn:aws:iam::TENANT:user/x"},
    "subuser": {"AWS": ["arn:aws:iam::TENANT:user/TENANT:x"]},
    "tenant root": {"AWS": "arn:aws:iam::TENANT:root"},
    "role": {"AWS": "arn:aws:iam::TENANT:role/r"},
    "empty account": {"AWS": "arn:aws:iam:::user/x"},
    "everyone": "*",
    "everyone as AWS": {"AWS": "*"},
    "bare account id": {"AWS": "123456789012"},
    "service": {"Service": "s3.amazonaws.com"},
    "federated": {"Federated": "arn:aws:iam::x:oidc-provider/localhost"},
    "ARN without account": {"AWS": "arn:aws:iam:user/x"},
    "group": {"AWS": "arn:aws:iam::TENANT:group/g"},
    "S3 ARN": {"AWS": "arn:aws:s3:::x"},
    "not a string": {"AWS": [5]},
    "canonical user": {"CanonicalUser": "abc"},
    "unknown type": {"Foo": "x"},
}


def _with_principal(tenant: str, bucket: str, principal: object) -> dict[str, Any]:
    principal = json.loads(json.dumps(principal).replace("TENANT", tenant))
    statement = {
        "Sid": "by-hand",
        "Effect": "Allow",
        "Principal": principal,
        "Action": ["s3:GetObject"],
        "Resource": [f"arn:aws:s3:::{bucket}/*"],
    }
    return {"Version": policy.VERSION, "Statement": [statement]}


def test_latchkey_leaves_out_exactly_the_principals_ceph_18_and_20_refuse(project: Project) -> None:
    storage.project_user_ensure(tenant=project.tenant, display_name="p")
    storage.bucket_create(tenant=project.tenant, name="principals")
    refused_by_ceph, flagged = [], []
    for name, principal in PRINCIPALS.items():
        document = _with_principal(project.tenant, "principals", principal)
        if policy.refused_statements(document):
            flagged.append(name)
        try:
            storage.bucket_policy_put(tenant=project.tenant, name="principals", policy=document)
        except storage.StorageError as exc:
            assert exc.code == "InvalidArgument"
            refused_by_ceph.append(name)
    assert flagged == [
        "service",
        "ARN without account",
        "group",
        "S3 ARN",
        "not a string",
        "canonical user",
        "unknown type",
    ]
    # 16 stores what 18 and 20 refuse (where a policy written under 16 comes from); 20 takes a
    # Service principal again, which matches nobody in RGW.
    assert refused_by_ceph == {16: ["not a string", "unknown type"], 18: flagged, 20: flagged[1:]}[ceph_release()]


def test_a_statement_ceph_would_refuse_is_left_out_and_its_managers_told(
    project: Project, member_of: Callable[..., Membership], monkeypatch: pytest.MonkeyPatch
) -> None:
    manager, member = member_of(project, Role.MANAGER), member_of(project, Role.MEMBER)
    bucket = bucket_create(membership=manager, name="upgraded")
    policies_sync_dirty(project=project)
    tenant = project.tenant
    bad = _with_principal(tenant, "upgraded", PRINCIPALS["ARN without account"])["Statement"][0]
    good = {**_with_principal(tenant, "upgraded", PRINCIPALS["user"])["Statement"][0], "Sid": "kept"}
    held = storage.bucket_policy_get(tenant=tenant, name="upgraded")
    assert held is not None
    with_bad = {**held, "Statement": [good, bad, *held["Statement"]]}
    if ceph_release() == 16:
        storage.bucket_policy_put(tenant=tenant, name="upgraded", policy=with_bad)  # 16 stores it
    else:
        with pytest.raises(storage.StorageError, match="InvalidArgument"):
            storage.bucket_policy_put(tenant=tenant, name="upgraded", policy=with_bad)
        # A policy stored under 16 before the cluster was upgraded: Ceph still hands it out.
        read = storage.bucket_policy_get
        monkeypatch.setattr(
            storage, "bucket_policy_get", lambda **kw: with_bad if kw["name"] == "upgraded" else read(**kw)
        )
    Bucket.objects.filter(pk=bucket.pk).update(policy_dirty=True)
    assert bucket_policy_sync(bucket_locked(bucket.pk))  # written, not refused
    monkeypatch.undo()
    stored = storage.bucket_policy_get(tenant=tenant, name="upgraded")
    assert stored is not None
    sids = [s["Sid"] for s in stored["Statement"]]
    assert sids[0] == "kept" and "by-hand" not in sids and f"{policy.SID_PREFIX}members-bucket-settings" in sids
    bucket.refresh_from_db()
    assert [(i["statement"]["Sid"], i["reason"]) for i in bucket.policy_left_out] == [
        ("by-hand", "the principal 'arn:aws:iam:user/x' is not an IAM ARN the storage service accepts")
    ]
    # The managers see it on the bucket page and dismiss it; members are not shown it.
    page = reverse("buckets:detail", args=[project.number, "upgraded"])
    as_manager, as_member = Client(), Client()
    as_manager.force_login(manager.user)
    as_member.force_login(member.user)
    assert "arn:aws:iam:user/x" in as_manager.get(page).content.decode()
    assert "arn:aws:iam:user/x" not in as_member.get(page).content.decode()
    dismissed = as_manager.post(reverse("buckets:left_out_dismiss", args=[project.number, "upgraded"]))
    assert dismissed.status_code == 302
    bucket.refresh_from_db()
    assert bucket.policy_left_out == []
    assert "arn:aws:iam:user/x" not in as_manager.get(page).content.decode()


def _answer(call: Any, **kwargs: Any) -> str:
    """What S3 answers ``call(**kwargs)``: "ok" or the refusal's code."""
    try:
        call(**kwargs)
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return "ok"


def test_nothing_becomes_public_but_through_a_managers_public_grant(
    project: Project, member_of: Callable[..., Membership]
) -> None:
    """L5: a writer's canned ACL or grant header, an ACL set afterwards, or a bucket made public
    over S3 publishes nothing; a manager's public grant does."""
    manager, member = member_of(project, Role.MANAGER), member_of(project, Role.MEMBER)
    _, as_manager = _s3(manager)
    _, as_member = _s3(member)
    bucket_create(membership=manager, name="guarded")
    policies_sync_dirty(project=project)
    endpoint = settings.LATCHKEY_S3_ENDPOINTS[0][1]

    def anonymous(path: str) -> int:
        return requests.get(f"{endpoint}/{project.tenant}:{path}", timeout=10).status_code

    everyone = 'uri="http://acs.amazonaws.com/groups/global/AllUsers"'
    attempts = [
        ("put_object", {"Key": "a", "Body": b"x", "ACL": "public-read"}, "AccessDenied"),
        ("put_object", {"Key": "b", "Body": b"x", "GrantRead": everyone}, "AccessDenied"),
        ("put_object", {"Key": "c", "Body": b"x", "GrantFullControl": everyone}, "AccessDenied"),
        ("put_object", {"Key": "d", "Body": b"x", "ACL": "private"}, "ok"),
        ("put_object", {"Key": "e", "Body": b"x"}, "ok"),
        ("put_object_acl", {"Key": "e", "ACL": "public-read"}, "AccessDenied"),
        ("put_bucket_acl", {"ACL": "public-read"}, "AccessDenied"),
    ]
    for s3 in (as_member, as_manager):
        answers = [_answer(getattr(s3, op), Bucket="guarded", **kwargs) for op, kwargs, _ in attempts]
        assert answers == [expected for _, _, expected in attempts]
    assert [anonymous(f"guarded/{k}") for k in "abcde"] == [403] * 5  # none made, or none public
    # A bucket made public over S3, before Latchkey has seen it: its first policy makes it private.
    as_member.create_bucket(Bucket="made-public", ACL="public-read")
    assert anonymous("made-public") == 200
    project_refresh_usage(project=project)
    policies_sync_dirty(project=project)
    assert anonymous("made-public") == 403
    # The one way in for everyone: a manager's public grant.
    grant_create(
        actor=manager.user,
        bucket=Bucket.objects.get(project=project, name="guarded"),
        request=GrantRequest(kind="public", public_confirmed=True),
    )
    assert anonymous("guarded/e") == 200


@pytest.mark.django_db
def test_rgw_accounts_exist_from_19_on_and_are_refused_by_name_before() -> None:
    """The accounts model needs RGW accounts (19 and later). 16 and 18 answer the admin API's
    account creation with MethodNotAllowed, so their stacks put every project in a tenant;
    tests/ceph/test_accounts_*.py, which need accounts, skip there for that reason alone."""
    name = f"release-{secrets.token_hex(4)}"
    if ceph_release() >= 19:
        assert accounts.account_ensure(name=name).id.startswith("RGW")
    else:
        with pytest.raises(storage.StorageError) as refused:
            accounts.account_ensure(name=name)
        assert refused.value.code == "MethodNotAllowed"
    # LATCHKEY_STORAGE_MODEL's default, "auto", asks the cluster the same question.
    assert accounts.accounts_available() == (ceph_release() >= 19)
    assert homes.model_for_new("auto") == (homes.ACCOUNT if ceph_release() >= 19 else homes.TENANT)
    assert homes.model_for_new("tenant") == homes.TENANT
