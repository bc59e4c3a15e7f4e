"""The accounts model's storage calls against the real radosgw 20 (two gateways): an account, a
key as an IAM user whose policy holds its rights and its end, and Ceph refusing it from that end
on with nothing of Latchkey running. Every "can" and "cannot" is a real S3 request."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError
from django.conf import settings

from storage import accounts, client
from storage.identity import KeyRights, Narrowing, Reach, key_policy

pytestmark = [pytest.mark.ceph, pytest.mark.django_db, pytest.mark.accounts]


@pytest.fixture
def account() -> Iterator[accounts.Account]:
    made = accounts.account_ensure(name=f"test-{secrets.token_hex(6)}")
    yield made


def _key(account: accounts.Account, rights: KeyRights) -> tuple[str, str, str]:
    access_key = "LK" + secrets.token_hex(9).upper()
    user = "k" + access_key.lower()
    secret = accounts.key_user_create(
        account_id=account.id, user=user, access_key=access_key, policy=key_policy(rights)
    )
    return user, access_key, secret


def _code(access_key: str, secret: str, call: str, endpoint: str | None = None, **kwargs: object) -> str:
    s3 = client.s3_client(access_key=access_key, secret_key=secret, endpoint=endpoint)
    try:
        getattr(s3, call)(**kwargs)
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return "ok"


def _later(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def test_an_account_is_made_once_and_holds_its_buckets(account: accounts.Account) -> None:
    assert account.id.startswith("RGW") and len(account.id) == 20
    assert accounts.account_ensure(name=account.name) == account  # safe to repeat
    name = f"acct-{secrets.token_hex(4)}"
    accounts.account_bucket_create(account_id=account.id, name=name)
    assert [b.name for b in accounts.account_buckets(account_id=account.id)] == [name]
    _, access_key, secret = _key(account, KeyRights(ends_at=_later(3600), actions="write"))
    client.s3_client(access_key=access_key, secret_key=secret).put_object(Bucket=name, Key="a", Body=b"12345")
    assert accounts.account_usage(account_id=account.id) == client.Usage(bytes=5, objects=1)


def test_each_level_is_what_ceph_allows(account: accounts.Account) -> None:
    shared, closed = f"shared-{secrets.token_hex(4)}", f"closed-{secrets.token_hex(4)}"
    for name in (shared, closed):
        accounts.account_bucket_create(account_id=account.id, name=name)
    _, wk, ws = _key(
        account, KeyRights(ends_at=_later(3600), actions="write", narrowed=(Narrowing(bucket=closed, tier="read"),))
    )
    _, rk, rs = _key(account, KeyRights(ends_at=_later(3600), actions="read"))
    _, bk, bs = _key(
        account, KeyRights(ends_at=_later(3600), anywhere=False, reach=(Reach(bucket=shared, level="read"),))
    )
    assert _code(wk, ws, "put_object", Bucket=shared, Key="seed", Body=b"s") == "ok"
    assert _code(wk, ws, "put_object", Bucket=closed, Key="x", Body=b"s") == "AccessDenied"
    assert _code(wk, ws, "create_bucket", Bucket=f"made-{secrets.token_hex(4)}") == "ok"
    # Read-only: reads, and nothing that writes (buckets, settings, objects).
    assert _code(rk, rs, "get_object", Bucket=shared, Key="seed") == "ok"
    assert _code(rk, rs, "put_object", Bucket=shared, Key="y", Body=b"s") == "AccessDenied"
    assert _code(rk, rs, "create_bucket", Bucket=f"ro-{secrets.token_hex(4)}") == "AccessDenied"
    versioning = {"Status": "Enabled"}
    assert _code(rk, rs, "put_bucket_versioning", Bucket=shared, VersioningConfiguration=versioning) == "AccessDenied"
    # Limited to one bucket, reading.
    assert _code(bk, bs, "get_object", Bucket=shared, Key="seed") == "ok"
    assert _code(bk, bs, "list_objects_v2", Bucket=closed) == "AccessDenied"
    assert _code(bk, bs, "put_object", Bucket=shared, Key="z", Body=b"s") == "AccessDenied"


def test_ceph_refuses_a_key_at_its_end_at_every_gateway_and_a_new_policy_extends_it(
    account: accounts.Account,
) -> None:
    bucket = f"ends-{secrets.token_hex(4)}"
    accounts.account_bucket_create(account_id=account.id, name=bucket)
    ends = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=3)
    user, access_key, secret = _key(account, KeyRights(ends_at=ends, actions="read"))
    endpoints = [url for _, url in settings.LATCHKEY_S3_ENDPOINTS]
    assert len(endpoints) == 2
    assert {_code(access_key, secret, "list_objects_v2", url, Bucket=bucket) for url in endpoints} == {"ok"}
    while datetime.now(UTC) < ends:
        time.sleep(0.05)
    # Nothing of Latchkey runs here: Ceph alone holds the end.
    refused = {}
    deadline = time.monotonic() + 1.0
    while len(refused) < len(endpoints) and time.monotonic() < deadline:
        for url in endpoints:
            if url not in refused and _code(access_key, secret, "list_objects_v2", url, Bucket=bucket) != "ok":
                refused[url] = (datetime.now(UTC) - ends).total_seconds()
        time.sleep(0.02)
    assert set(refused) == set(endpoints), "S3 still accepted the key a second after its end"
    accounts.key_user_policy_put(user=user, policy=key_policy(KeyRights(ends_at=_later(3600), actions="read")))
    assert {_code(access_key, secret, "list_objects_v2", url, Bucket=bucket) for url in endpoints} == {"ok"}
    policy = accounts.key_user_policy_get(user=user)
    assert policy is not None and policy["Statement"][-1]["Sid"] == "end"


def test_suspended_then_removed_the_key_is_refused_and_leaves_nothing(account: accounts.Account) -> None:
    user, access_key, secret = _key(account, KeyRights(ends_at=_later(3600), actions="read"))
    assert _code(access_key, secret, "list_buckets") == "ok"
    assert accounts.key_user_secret(user=user) == secret
    accounts.key_user_suspend(user=user)
    assert _code(access_key, secret, "list_buckets") == "UserSuspended"
    accounts.key_user_remove(user=user)
    assert _code(access_key, secret, "list_buckets") == "InvalidAccessKeyId"
    assert accounts.key_user_secret(user=user) is None
    assert accounts.key_user_policy_get(user=user) is None
    accounts.key_user_remove(user=user)  # safe to repeat
    accounts.key_user_suspend(user=user)


def test_the_quota_is_the_accounts_and_is_not_cut_to_32_bits(account: accounts.Account) -> None:
    bucket = f"quota-{secrets.token_hex(4)}"
    accounts.account_bucket_create(account_id=account.id, name=bucket)
    accounts.account_quota_set(account_id=account.id, max_bytes=10 * 2**30, max_objects=1)
    record = client._call("get_account", client._client().request, "get", f"/admin/account?id={account.id}")
    assert (record["quota"]["max_size"], record["quota"]["max_objects"], record["quota"]["enabled"]) == (
        10 * 2**30,
        1,
        True,
    )
    _, access_key, secret = _key(account, KeyRights(ends_at=_later(3600), actions="write"))
    endpoint = settings.LATCHKEY_S3_ENDPOINT  # one gateway: each counts on its own until stats sync
    assert _code(access_key, secret, "put_object", endpoint, Bucket=bucket, Key="1", Body=b"x") == "ok"
    assert _code(access_key, secret, "put_object", endpoint, Bucket=bucket, Key="2", Body=b"x") == "QuotaExceeded"
    accounts.account_limits_set(account_id=account.id, max_buckets=0)
    assert _code(access_key, secret, "create_bucket", Bucket=f"none-{secrets.token_hex(4)}") == "AccessDenied"


def test_rights_too_large_for_rgw_are_refused_with_a_reason_and_leave_no_user(account: accounts.Account) -> None:
    narrowed = tuple(Narrowing(bucket=f"b{n:05d}-{'x' * 50}", tier="read") for n in range(6000))
    access_key = "LK" + secrets.token_hex(9).upper()
    user = "k" + access_key.lower()
    with pytest.raises(client.StorageError, match="more than the storage service accepts") as refused:
        accounts.key_user_create(
            account_id=account.id,
            user=user,
            access_key=access_key,
            policy=key_policy(KeyRights(ends_at=_later(60), narrowed=narrowed)),
        )
    assert refused.value.code == "PolicyTooLarge"
    assert accounts.key_user_secret(user=user) is None


def test_a_policy_ceph_refuses_takes_the_new_user_away_again(
    account: accounts.Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(**kwargs: object) -> None:
        raise client.StorageError("the storage service refused put_user_policy: MalformedPolicyDocument")

    monkeypatch.setattr(accounts, "key_user_policy_put", refused)
    access_key = "LK" + secrets.token_hex(9).upper()
    user = "k" + access_key.lower()
    with pytest.raises(client.StorageError):
        accounts.key_user_create(
            account_id=account.id, user=user, access_key=access_key, policy=key_policy(KeyRights(ends_at=_later(60)))
        )
    assert accounts.key_user_secret(user=user) is None  # asked of the real radosgw
