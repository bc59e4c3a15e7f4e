"""The accounts model (Ceph 19 and later): a project is an RGW account, and each S3 key is the one
key of an IAM user of that account whose inline policy carries the key's rights and its end, so
Ceph itself refuses the key from its end on, whether or not Latchkey's worker runs.

Everything here was measured on radosgw 20.2.4 (docs/accounts-model.md):
- Latchkey's admin user (a system user with the caps ``accounts=*`` and ``user-policy=*``) does
  it all: the account, its users, their keys (with ids Latchkey chooses, secrets Ceph generates
  and returns only in the answer's body) and their inline policies (IAM PutUserPolicy with the
  user's id as its name). So no account root key is kept anywhere.
- Every change is in force at every gateway when the call returns. A user is refused first
  (suspended) and then removed, which takes its key and policies with it.
- The account's quota is written into its metadata record: ``PUT /admin/account?quota`` reads the
  figures as 32-bit integers (10 GiB becomes "no limit").
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from storage.client import (
    BucketFigures,
    StorageError,
    Usage,
    _call,
    _client,
    _iam,
    _s3_call,
    bucket_figures,
    rgw_max_buckets,
    s3_client,
)
from storage.locks import one_writer

log = logging.getLogger(__name__)

POLICY_NAME = "latchkey"  # the one inline policy of a key's user
USER_PATH = "/latchkey/"  # every key user's IAM path: its ARN is arn:aws:iam::ACCOUNT:user/latchkey/NAME


@dataclass(frozen=True)
class Account:
    id: str  # "RGW" + 17 digits, chosen by Ceph
    name: str


def _admin(
    method: str, resource: str, params: dict[str, str], *, operation: str, write: bool = False, counted: bool = True
) -> Any:
    adm = _client()
    query = urlencode({"format": "json", **params})
    return _call(operation, adm.request, method, f"/{adm._admin}/{resource}?{query}", user_write=write, counted=counted)


def root_uid(account_id: str) -> str:
    """The account's root user: it owns nothing (buckets belong to the account) and has no key but
    for the instant of a bucket creation."""
    return f"root-{account_id.lower()}"


# An account id radosgw never gives (they are RGW and 17 random digits; this one is all zeros).
_NO_ACCOUNT = "RGW00000000000000000"


def accounts_available() -> bool:
    """Whether the cluster has RGW accounts (19 and later). Measured: 20.2.4 answers a read of an
    account that does not exist with NoSuchKey; 16 and 18 answer any account call with
    MethodNotAllowed. Anything else (Ceph unreachable, refused credentials) raises: no guess."""
    try:
        _admin("get", "account", {"id": _NO_ACCOUNT}, operation="accounts_probe", counted=False)
    except StorageError as exc:
        if exc.code == "MethodNotAllowed":
            return False
        if exc.code == "AccessDenied":
            log.error("Latchkey's admin user may not read RGW accounts: it needs the caps accounts=*;user-policy=*")
            raise StorageError(
                "the storage service's admin user lacks the caps accounts=*;user-policy=* (docs/operators.md §1b)",
                code=exc.code,
            ) from None
        if exc.code in ("NoSuchKey", "NoSuchAccount"):
            return True
        raise
    return True


def account_ensure(*, name: str) -> Account:
    """The account named ``name`` (made unless it exists) and its root user. Safe to repeat."""
    try:
        answer = _admin("post", "account", {"name": name}, operation="create_account")
    except StorageError as exc:
        if exc.code != "AccountAlreadyExists":
            raise
        answer = _admin("get", "account", {"name": name}, operation="get_account")
    account = Account(id=str(answer["id"]), name=name)
    try:
        _admin(
            "put",
            "user",
            {
                "uid": root_uid(account.id),
                "account-id": account.id,
                "account-root": "true",
                "display-name": "root",
                "generate-key": "false",
            },
            operation="create_user",
        )
    except StorageError as exc:
        if exc.code != "UserAlreadyExists":
            raise
    return account


def account_limits_set(*, account_id: str, max_buckets: int | None) -> None:
    """The account's bucket limit (radosgw's reading: 0 unlimited, -1 none; see rgw_max_buckets)."""
    params = {"id": account_id, "max-buckets": str(rgw_max_buckets(max_buckets))}
    _admin("put", "account", params, operation="modify_account", write=True)


def account_quota_set(*, account_id: str, max_bytes: int | None, max_objects: int | None) -> None:
    """The account's quota over all its buckets, which Ceph enforces for every key (QuotaExceeded).
    Written into the account's metadata record, one writer at a time: that write does not check
    the record's version, so two overlapping writers could undo each other."""
    with one_writer(f"account:{account_id}"):
        record = _admin("get", "metadata/account", {"key": account_id}, operation="get_account_metadata")
        quota = record["data"]["quota"]
        quota.update(
            {
                "enabled": max_bytes is not None or max_objects is not None,
                "max_size": max_bytes if max_bytes is not None else -1,
                "max_size_kb": -(-max_bytes // 1024) if max_bytes is not None else 0,
                "max_objects": max_objects if max_objects is not None else -1,
            }
        )
        adm = _client()
        _call(
            "put_account_metadata",
            adm.request,
            "put",
            f"/{adm._admin}/metadata/account?{urlencode({'key': account_id})}",
            data=json.dumps(record),
        )


def account_usage(*, account_id: str) -> Usage:
    """The account's totals over all its buckets, synced first so the figure is exact."""
    answer = _admin("get", "user", {"uid": root_uid(account_id), "stats": "true", "sync": "true"}, operation="get_user")
    stats = (answer or {}).get("stats", {})
    return Usage(bytes=int(stats.get("size", 0)), objects=int(stats.get("num_objects", 0)))


def account_buckets(*, account_id: str) -> list[BucketFigures]:
    """The account's buckets with their figures (any user of the account lists them all)."""
    answer = _admin("get", "bucket", {"uid": root_uid(account_id), "stats": "true"}, operation="get_bucket")
    return [bucket_figures(b) for b in answer or []]


def account_bucket_create(*, account_id: str, name: str) -> None:
    """Create bucket ``name`` owned by the account, through a key of its root user made for this
    one call and removed straight after (its secret only in this function's memory)."""
    access_key = "LKTMP" + secrets.token_hex(8).upper()[:15]
    uid = root_uid(account_id)
    answer = _admin(
        "put", "user", {"key": "", "uid": uid, "access-key": access_key, "generate-key": "true"}, operation="create_key"
    )
    secret = next(str(k["secret_key"]) for k in answer if k.get("access_key") == access_key)
    try:
        _s3_call("create_bucket", s3_client(access_key=access_key, secret_key=secret).create_bucket, Bucket=name)
    finally:
        _admin("delete", "user", {"key": "", "uid": uid, "access-key": access_key}, operation="remove_key")


def key_user_create(*, account_id: str, user: str, access_key: str, policy: dict[str, Any]) -> str:
    """The key's IAM user ``user`` with our ``access_key`` id and its policy; returns the secret
    Ceph generated. The user exists a moment before its policy, with no rights at all (an IAM
    user starts with none). Repeating the call for a user that exists returns its secret. If the
    policy cannot be written, the user goes again: nothing half-made stays."""
    _policy_document(policy)  # too large: refused before anything is made
    try:
        answer = _admin(
            "put",
            "user",
            {
                "uid": user,
                "account-id": account_id,
                "display-name": user,
                "path": USER_PATH,
                "access-key": access_key,
                "generate-key": "true",
            },
            operation="create_user",
        )
    except StorageError as exc:
        if exc.code != "UserAlreadyExists":
            raise
        answer = _admin("get", "user", {"uid": user}, operation="get_user")
    secret = next(
        (str(k["secret_key"]) for k in (answer or {}).get("keys", []) if k.get("access_key") == access_key), None
    )
    if secret is None:
        raise StorageError("the storage service did not return the new key", code="MissingKey")
    try:
        key_user_policy_put(user=user, policy=policy)
    except StorageError:
        key_user_remove(user=user)
        raise
    return secret


# RGW takes a form-encoded request body of at most 1 MiB (measured: a 1,048,405-byte policy was
# the largest accepted; beyond it HTTP 405 with no error body). Escaping in the form costs
# characters, so a policy is refused here, with a reason, well before.
POLICY_MAX_BYTES = 900_000


def _policy_document(policy: dict[str, Any]) -> str:
    document = json.dumps(policy, separators=(",", ":"))
    if len(document) > POLICY_MAX_BYTES:
        raise StorageError(
            f"the key's rights would take {len(document)} bytes, more than the storage service accepts",
            code="PolicyTooLarge",
        )
    return document


def key_user_policy_put(*, user: str, policy: dict[str, Any]) -> None:
    """Replace the key's rights and end. In force at every gateway when this returns."""
    document = _policy_document(policy)
    _s3_call(
        "put_user_policy",
        _iam().put_user_policy,
        UserName=user,
        PolicyName=POLICY_NAME,
        PolicyDocument=document,
        conflicts=True,
    )


def key_user_policy_get(*, user: str) -> dict[str, Any] | None:
    try:
        answer = _s3_call(
            "get_user_policy", _iam().get_user_policy, UserName=user, PolicyName=POLICY_NAME, expected=("NoSuchEntity",)
        )
    except StorageError as exc:
        if exc.code == "NoSuchEntity":
            return None
        raise
    document = answer["PolicyDocument"]
    return json.loads(document) if isinstance(document, str) else dict(document)


def key_user_suspend(*, user: str) -> None:
    """Refuse the key at once (UserSuspended), before it is removed. A user already gone: done."""
    try:
        _admin("post", "user", {"uid": user, "suspended": "true"}, operation="modify_user", write=True)
    except StorageError as exc:
        if exc.code != "NoSuchUser":
            raise


def key_user_remove(*, user: str) -> None:
    """Remove the key's user with its key and policy; what it wrote stays the account's."""
    try:
        _admin("delete", "user", {"uid": user, "purge-data": "false"}, operation="remove_user")
    except StorageError as exc:
        if exc.code != "NoSuchUser":
            raise


def key_user_secret(*, user: str) -> str | None:
    try:
        answer = _admin("get", "user", {"uid": user}, operation="get_user")
    except StorageError as exc:
        if exc.code == "NoSuchUser":
            return None
        raise
    keys = (answer or {}).get("keys", [])
    return str(keys[0]["secret_key"]) if keys else None
