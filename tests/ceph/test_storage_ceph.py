"""The client module against the real radosgw of the test stack."""

from __future__ import annotations

import secrets

import pytest
from botocore.exceptions import ClientError

from storage import client as storage
from tests.support.ceph import ceph_release
from tests.support.s3 import s3_error_code, wait_refused

pytestmark = [pytest.mark.ceph, pytest.mark.django_db]  # writes take the tenant's advisory lock (storage/locks.py)


def _tenant() -> str:
    return "ct" + secrets.token_hex(5)


def _user(tenant: str) -> dict:  # type: ignore[type-arg]
    return storage._client().get_user(uid=storage.uid(tenant))  # type: ignore[no-any-return]


def test_provisioning_twice_changes_nothing() -> None:
    tenant = _tenant()
    storage.project_user_ensure(tenant=tenant, display_name="p")
    storage.subuser_ensure(tenant=tenant, name="alice", access="readwrite")
    first = _user(tenant)
    storage.project_user_ensure(tenant=tenant, display_name="p")
    storage.subuser_ensure(tenant=tenant, name="alice", access="readwrite")
    second = _user(tenant)
    assert first == second
    assert [s["id"] for s in second["subusers"]] == [f"{tenant}${tenant}:alice"]
    assert second["subusers"][0]["permissions"] == "read-write"
    # No key appears that Latchkey did not issue (neither for the user nor the subuser).
    assert second["keys"] == []


def test_subuser_access_follows_role_change() -> None:
    tenant = _tenant()
    storage.project_user_ensure(tenant=tenant, display_name="p")
    storage.subuser_ensure(tenant=tenant, name="bob", access="readwrite")
    storage.subuser_ensure(tenant=tenant, name="bob", access="read")
    assert _user(tenant)["subusers"][0]["permissions"] == "read"


def test_key_works_for_s3_and_is_refused_after_removal() -> None:
    tenant = _tenant()
    storage.project_user_ensure(tenant=tenant, display_name="p")
    storage.subuser_ensure(tenant=tenant, name="alice", access="readwrite")
    access = "LKTEST" + secrets.token_hex(7).upper()
    secret = storage.key_create(tenant=tenant, subuser="alice", access_key=access)
    assert len(secret) >= 32

    s3 = storage.s3_client(access_key=access, secret_key=secret)
    bucket = "b-" + secrets.token_hex(6)
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="hello.txt", Body=b"hello ceph")
    assert s3.get_object(Bucket=bucket, Key="hello.txt")["Body"].read() == b"hello ceph"

    assert [k.access_key for k in storage.keys_list(tenant=tenant)] == [access]
    assert storage.key_secret(tenant=tenant, access_key=access) == secret

    storage.key_remove(tenant=tenant, access_key=access)
    assert wait_refused(access, secret) == "InvalidAccessKeyId"
    assert storage.keys_list(tenant=tenant) == []
    storage.key_remove(tenant=tenant, access_key=access)  # removing again is fine


def test_repeated_create_returns_a_working_secret_and_one_key() -> None:
    # A retry after a lost answer must not fail, duplicate the key, or return a stale secret.
    tenant = _tenant()
    storage.project_user_ensure(tenant=tenant, display_name="p")
    storage.subuser_ensure(tenant=tenant, name="alice", access="readwrite")
    access = "LKTEST" + secrets.token_hex(7).upper()
    storage.key_create(tenant=tenant, subuser="alice", access_key=access)
    second = storage.key_create(tenant=tenant, subuser="alice", access_key=access)
    assert storage.key_secret(tenant=tenant, access_key=access) == second
    assert s3_error_code(access, second) is None
    assert len(storage.keys_list(tenant=tenant)) == 1


def test_read_subuser_cannot_write() -> None:
    tenant = _tenant()
    storage.project_user_ensure(tenant=tenant, display_name="p")
    storage.subuser_ensure(tenant=tenant, name="writer", access="readwrite")
    storage.subuser_ensure(tenant=tenant, name="reader", access="read")
    w_key, r_key = "LKW" + secrets.token_hex(8).upper()[:17], "LKR" + secrets.token_hex(8).upper()[:17]
    w = storage.s3_client(
        access_key=w_key, secret_key=storage.key_create(tenant=tenant, subuser="writer", access_key=w_key)
    )
    r = storage.s3_client(
        access_key=r_key, secret_key=storage.key_create(tenant=tenant, subuser="reader", access_key=r_key)
    )
    bucket = "b-" + secrets.token_hex(6)
    w.create_bucket(Bucket=bucket)
    w.put_object(Bucket=bucket, Key="x", Body=b"1")
    assert r.get_object(Bucket=bucket, Key="x")["Body"].read() == b"1"
    with pytest.raises(Exception, match="AccessDenied"):
        r.put_object(Bucket=bucket, Key="y", Body=b"2")


def test_configured_region_is_the_one_ceph_accepts() -> None:
    # The stack reads the zonegroup's api_name; a bucket created with it as location works,
    # and any other region is refused, which is why configs must carry exactly this value.
    tenant = _tenant()
    storage.project_user_ensure(tenant=tenant, display_name="p")
    storage.subuser_ensure(tenant=tenant, name="alice", access="readwrite")
    access = "LKTEST" + secrets.token_hex(7).upper()
    s3 = storage.s3_client(
        access_key=access, secret_key=storage.key_create(tenant=tenant, subuser="alice", access_key=access)
    )
    s3.create_bucket(Bucket="r-" + tenant, CreateBucketConfiguration={"LocationConstraint": storage.region()})
    # radosgw 20 renamed the refusal; both are a 400 that names the constraint.
    refusal = {
        16: "InvalidLocationConstraint",
        18: "InvalidLocationConstraint",
        20: "IllegalLocationConstraintException",
    }
    with pytest.raises(ClientError) as refused:
        s3.create_bucket(Bucket="w-" + tenant, CreateBucketConfiguration={"LocationConstraint": "eu-north-9"})
    assert refused.value.response["Error"]["Code"] == refusal[ceph_release()]


def test_unreachable_gateway_is_storage_unavailable(settings) -> None:  # type: ignore[no-untyped-def]
    settings.LATCHKEY_RGW_ADMIN_URL = "http://127.0.0.1:9"  # discard port: nothing listens
    with pytest.raises(storage.StorageUnavailable):
        storage.project_user_ensure(tenant=_tenant(), display_name="p")


def test_unknown_key_is_refused() -> None:
    assert s3_error_code("LKNOSUCHKEY000000000", "x" * 40) == "InvalidAccessKeyId"
