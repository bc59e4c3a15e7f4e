"""Domain-named calls to Ceph RADOS Gateway. Nothing else imports rgwadmin or boto3.

Every call has an explicit timeout; transport failures become ``StorageUnavailable`` and
refusals become ``StorageError``, so callers never see a library's own exceptions.
Identity model: project tenant ``T`` has one user ``T$T``; each member is subuser ``T$T:name``.
"""

from __future__ import annotations

import functools
import json
import logging
import random
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlparse

import boto3
import requests
import rgwadmin
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError
from botocore.handlers import validate_bucket_name
from django.conf import settings
from rgwadmin import exceptions as rgw_exc

from portal.errors import Unavailable
from storage.instruments import (
    CEPH_CONFLICT_RETRIES,
    CEPH_CONFLICTS_EXHAUSTED,
    CEPH_ERRORS,
    CEPH_SECONDS,
    REVOCATION_PROOF_SECONDS,
    REVOCATION_UNPROVEN,
)
from storage.locks import writes_user

log = logging.getLogger(__name__)

# The role of a member maps to the subuser's access level (see projects.models.Role).
ACCESS_LEVELS = ("read", "write", "readwrite", "full")


class StorageError(Unavailable):
    """Ceph refused or failed an operation."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class StorageUnavailable(StorageError):
    """Ceph could not be reached or did not answer in time."""


@dataclass(frozen=True)
class StoredKey:
    access_key: str
    subuser: str  # the short name, without "T$T:"


def uid(tenant: str) -> str:
    return f"{tenant}${tenant}"


def subuser_id(tenant: str, name: str) -> str:
    return f"{uid(tenant)}:{name}"


@functools.lru_cache(maxsize=4)
def _admin(url: str, access_key: str, secret_key: str, timeout: float) -> rgwadmin.RGWAdmin:
    parsed = urlparse(url)
    return rgwadmin.RGWAdmin(
        access_key=access_key,
        secret_key=secret_key,
        server=parsed.netloc,
        secure=parsed.scheme == "https",
        timeout=timeout,
        # No keep-alive: on a reused connection every admin call to radosgw 16 took ~45 ms more
        # (measured: create_key 52 ms pooled vs 5 ms fresh; get_user 48 vs 2), the signature of
        # Nagle meeting delayed ACKs. A fresh loopback/LAN connection costs well under 1 ms.
        pool_connections=False,
    )


def _client() -> rgwadmin.RGWAdmin:
    # Built on first use, not at import, and rebuilt if settings change (tests override them).
    return _admin(
        settings.LATCHKEY_RGW_ADMIN_URL,
        settings.LATCHKEY_RGW_ADMIN_ACCESS_KEY,
        settings.LATCHKEY_RGW_ADMIN_SECRET_KEY,
        settings.LATCHKEY_RGW_TIMEOUT,
    )


# radosgw rewrites a user's record (its keys, subusers, quota, suspension) with a version
# check: a call that overlaps another write to the same user is refused and changes nothing.
# 16 and 18 answer HTTP 500 "UnknownError", 20 HTTP 409 "ConcurrentModification"
# (../shared/design/ceph-rgw.md and ceph-releases.md, measured: 14-25 of 32 creates released
# together). Such writes are retried with jittered backoff; every one of them is
# idempotent here (a key id we chose, removal of what may be gone, set-to-a-value), so a retry
# after a refusal that did in fact apply is harmless. Reads and other refusals are not retried.
CONFLICTS = frozenset({"UnknownError", "ConcurrentModification"})
CONFLICT_BACKOFF_S = 0.02  # the first wait's upper bound; doubles per attempt up to the cap
CONFLICT_BACKOFF_CAP_S = 0.5


def _once(operation: str, func: Any, *args: Any, **kwargs: Any) -> Any:
    started = time.perf_counter()
    try:
        return func(*args, **kwargs)
    except (requests.ConnectionError, requests.Timeout, rgw_exc.ServerDown) as exc:
        log.warning("rgw %s: unavailable (%s)", operation, type(exc).__name__)
        CEPH_ERRORS.labels(operation, "unavailable").inc()
        raise StorageUnavailable(f"the storage service did not answer ({operation})") from None
    except rgw_exc.RGWAdminException as exc:
        code = type(exc).__name__ if type(exc) is not rgw_exc.RGWAdminException else str(exc.args[0])
        raise StorageError(f"the storage service refused {operation}: {code}", code=code) from None
    finally:
        CEPH_SECONDS.labels(operation).observe(time.perf_counter() - started)


def _call(operation: str, func: Any, *args: Any, user_write: bool = False, counted: bool = True, **kwargs: Any) -> Any:
    """One admin call; ``user_write`` marks a call that rewrites a user record, retried while
    radosgw refuses it as a concurrent modification (at most LATCHKEY_RGW_CONFLICT_ATTEMPTS);
    ``counted`` False: a refusal is an answer the caller expects, not a Ceph error to count."""
    return _retrying(
        "rgw", operation, lambda: _once(operation, func, *args, **kwargs), retried=user_write, counted=counted
    )


def _retrying(kind: str, operation: str, call: Any, *, retried: bool, counted: bool) -> Any:
    """Run ``call``; with ``retried``, again while it is refused as a concurrent modification.
    A refusal that ends it is logged and counted here, unless ``counted`` is False (the call
    did so itself), in which case only a conflict, which the call was told to expect, is."""
    attempts = settings.LATCHKEY_RGW_CONFLICT_ATTEMPTS if retried else 1
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except StorageUnavailable:
            raise
        except StorageError as exc:
            conflict = exc.code in CONFLICTS
            if not conflict or attempt == attempts:
                if counted or (retried and conflict):
                    log.warning("%s %s: refused with %s", kind, operation, exc.code)
                    CEPH_ERRORS.labels(operation, exc.code[:40]).inc()
                if conflict and retried:
                    CEPH_CONFLICTS_EXHAUSTED.labels(operation).inc()
                raise
            CEPH_CONFLICT_RETRIES.labels(operation).inc()
            # Full jitter: overlapping callers spread out instead of colliding again in step.
            wait = random.uniform(0, min(CONFLICT_BACKOFF_CAP_S, CONFLICT_BACKOFF_S * 2**attempt))  # noqa: S311
            log.info(
                "%s %s: concurrent change of the user record, attempt %d, retry in %.3fs",
                kind,
                operation,
                attempt,
                wait,
            )
            time.sleep(wait)
    raise AssertionError("unreachable")  # the loop returns or raises


def _get_user(tenant: str) -> dict[str, Any] | None:
    try:
        return _call("get_user", _client().get_user, uid=uid(tenant))
    except StorageError as exc:
        if exc.code == "NoSuchUser":
            return None
        raise


def project_user_ensure(*, tenant: str, display_name: str) -> None:
    """Create the project's owner user ``T$T`` unless it exists. Safe to repeat."""
    if _get_user(tenant) is not None:
        return
    try:
        _call("create_user", _client().create_user, uid=uid(tenant), display_name=display_name, generate_key=False)
    except StorageError as exc:
        if exc.code != "UserAlreadyExists":  # created concurrently
            raise


@writes_user
def project_user_suspend(*, tenant: str, suspended: bool) -> None:
    """Suspend (or restore) the project's user: every subuser's key is then refused with
    UserSuspended while the data stays."""
    _call("modify_user", _client().modify_user, uid=uid(tenant), suspended=suspended, user_write=True)


@dataclass(frozen=True)
class Usage:
    bytes: int
    objects: int


@writes_user
def project_quota_set(*, tenant: str, max_bytes: int | None, max_objects: int | None, max_buckets: int | None) -> None:
    """Apply the project's quota to its Ceph user, which Ceph then enforces for every subuser."""
    enabled = max_bytes is not None or max_objects is not None
    _call(
        "set_user_quota",
        _client().set_user_quota,
        uid=uid(tenant),
        quota_type="user",
        max_size_kb=-(-max_bytes // 1024) if max_bytes is not None else -1,
        max_objects=max_objects if max_objects is not None else -1,
        enabled=enabled,
        user_write=True,
    )
    _call(
        "modify_user", _client().modify_user, uid=uid(tenant), max_buckets=rgw_max_buckets(max_buckets), user_write=True
    )


def rgw_max_buckets(max_buckets: int | None) -> int:
    """radosgw's own reading of max-buckets: 0 is *unlimited* and -1 is "may create none", so a
    project limited to no buckets is -1 there, never 0. None: RGW's default, 1000."""
    if max_buckets is None:
        return 1000
    return -1 if max_buckets == 0 else max_buckets


def project_usage(*, tenant: str) -> Usage:
    """The project's usage, synced first so the figure is exact (one admin call)."""
    user = _call("get_user", _client().get_user, uid=uid(tenant), stats=True, sync=True)
    stats = (user or {}).get("stats", {})
    return Usage(bytes=int(stats.get("size", 0)), objects=int(stats.get("num_objects", 0)))


@dataclass(frozen=True)
class BucketFigures:
    name: str
    size_bytes: int
    objects: int
    created: str  # ISO 8601 as Ceph gives it


def project_buckets(*, tenant: str) -> list[BucketFigures]:
    """The project's buckets with their size and object count (one admin call)."""
    return [bucket_figures(b) for b in _call("get_bucket", _client().get_bucket, uid=uid(tenant), stats=True) or []]


def bucket_figures(bucket: dict[str, Any]) -> BucketFigures:
    """One bucket of the admin API's bucket listing (with stats)."""
    main = (bucket.get("usage") or {}).get("rgw.main", {})
    return BucketFigures(
        name=str(bucket["bucket"]),
        size_bytes=int(main.get("size", 0)),
        objects=int(main.get("num_objects", 0)),
        created=str(bucket.get("creation_time", "")),
    )


@writes_user
def subuser_ensure(*, tenant: str, name: str, access: str) -> None:
    """Make subuser ``T$T:name`` exist with exactly ``access``. Safe to repeat."""
    if access not in ACCESS_LEVELS:
        raise ValueError(f"unknown access level {access!r}")
    user = _get_user(tenant)
    if user is None:
        raise StorageError(f"project user {uid(tenant)} does not exist", code="NoSuchUser")
    wanted = {"read": "read", "write": "write", "readwrite": "read-write", "full": "full-control"}[access]
    for sub in user.get("subusers", []):
        if sub.get("id") == subuser_id(tenant, name):
            if sub.get("permissions") != wanted:
                _call(
                    "modify_subuser",
                    _client().modify_subuser,
                    uid=uid(tenant),
                    subuser=subuser_id(tenant, name),
                    key_type="s3",
                    access=access,
                    user_write=True,
                )
            return
    # key_type s3 and no secret: creating a subuser must not mint a Swift key we never hand out.
    _call(
        "create_subuser",
        _client().create_subuser,
        uid=uid(tenant),
        subuser=subuser_id(tenant, name),
        key_type="s3",
        access=access,
        user_write=True,
    )
    # RGW creates an S3 key along with the subuser; a key Latchkey did not issue must not exist.
    for key in keys_list(tenant=tenant):
        if key.subuser == name:
            key_remove(tenant=tenant, access_key=key.access_key)


@writes_user
def subuser_remove(*, tenant: str, name: str) -> None:
    """Remove subuser ``T$T:name`` and all its keys. Safe to repeat."""
    try:
        _call(
            "remove_subuser",
            _client().remove_subuser,
            uid=uid(tenant),
            subuser=subuser_id(tenant, name),
            purge_keys=True,
            user_write=True,
        )
    except StorageError as exc:
        if exc.code not in ("NoSuchUser", "NoSuchSubUser", "InvalidArgument"):
            raise


@writes_user
def key_create(*, tenant: str, subuser: str, access_key: str) -> str:
    """Create an S3 key with our chosen ``access_key`` id on ``T$T:subuser``; return its secret.

    Ceph generates the secret (only the id is sent), so the secret never travels in a URL:
    the admin API takes its arguments in the query string. Repeating the call for an existing
    id gives that key a new secret (RGW's behaviour), so a retry after a lost answer still
    returns a secret that works.
    """
    try:
        keys = _call(
            "create_key",
            _client().create_key,
            uid=uid(tenant),
            subuser=subuser_id(tenant, subuser),
            key_type="s3",
            access_key=access_key,
            generate_key=True,
            user_write=True,
        )
    except StorageError as exc:
        if exc.code != "KeyExists":
            raise
        keys = (_get_user(tenant) or {}).get("keys", [])
    for key in keys or []:
        if key.get("access_key") == access_key:
            if key.get("user") != subuser_id(tenant, subuser):
                raise StorageError("access key id already belongs to another identity", code="KeyExists")
            return str(key["secret_key"])
    raise StorageError("the storage service did not return the new key", code="MissingKey")


@writes_user
def key_remove(*, tenant: str, access_key: str) -> None:
    """Remove an S3 key. Removing a key that is already gone succeeds."""
    try:
        _call(
            "remove_key", _client().remove_key, access_key=access_key, key_type="s3", uid=uid(tenant), user_write=True
        )
    except StorageError as exc:
        if exc.code not in ("NoSuchKey", "InvalidAccessKey", "InvalidAccessKeyId", "NoSuchUser"):
            raise


def keys_list(*, tenant: str) -> list[StoredKey]:
    """Every S3 key of the project's user and its subusers (one admin call)."""
    user = _get_user(tenant)
    if user is None:
        return []
    prefix = uid(tenant) + ":"
    result = []
    for key in user.get("keys", []):
        owner = str(key.get("user", ""))
        result.append(
            StoredKey(
                access_key=str(key["access_key"]), subuser=owner[len(prefix) :] if owner.startswith(prefix) else ""
            )
        )
    return result


def key_secret(*, tenant: str, access_key: str) -> str | None:
    """The secret of an existing key, fetched from Ceph now (Latchkey never stores it)."""
    for key in (_get_user(tenant) or {}).get("keys", []):
        if key.get("access_key") == access_key:
            return str(key["secret_key"])
    return None


# --- Scoped keys: one RGW user per key ------------------------------------------------------
# A scoped key is the only key of its own user "T$<user>" in the project's tenant (measured on
# radosgw 16, docs/scoped-keys-rgw16.md): it owns no bucket and may create none
# (max-buckets=-1; 0 would mean unlimited), so it reaches only what bucket policies name it in;
# op-mask "read" refuses every write whatever a policy allows. Its record is its own, so these
# calls need no turn at the project user's lock. User ids are never reused: a policy statement
# naming a removed user would apply again to a new user of the same id.


def scoped_uid(tenant: str, user: str) -> str:
    return f"{tenant}${user}"


def _op_mask(writes: bool) -> str:
    return "read,write,delete" if writes else "read"


def scoped_user_create(*, tenant: str, user: str, access_key: str, writes: bool) -> str:
    """Create the key's user with our ``access_key`` id in one admin call; return the secret
    Ceph generated. Repeating it for a user that exists returns that user's secret."""
    query = urlencode(
        {
            "format": "json",
            "uid": scoped_uid(tenant, user),
            "display-name": f"Latchkey scoped key {access_key}",
            "key-type": "s3",
            "access-key": access_key,
            "generate-key": "True",
            "max-buckets": "-1",
            "op-mask": _op_mask(writes),  # rgwadmin's create_user has no op-mask
        }
    )
    adm = _client()
    try:
        answer = _call("create_user", adm.request, "put", f"/{adm._admin}/user?{query}")
    except StorageError as exc:
        if exc.code != "UserAlreadyExists":
            raise
        answer = _call("get_user", adm.get_user, uid=scoped_uid(tenant, user))
    for key in (answer or {}).get("keys", []):
        if key.get("access_key") == access_key:
            return str(key["secret_key"])
    raise StorageError("the storage service did not return the new key", code="MissingKey")


def scoped_user_writes(*, tenant: str, user: str, writes: bool) -> None:
    """Set the key's floor: read only, or reads and writes (still only where policies allow).
    A user already gone has no floor to set: done."""
    adm = _client()
    query = urlencode({"format": "json", "uid": scoped_uid(tenant, user), "op-mask": _op_mask(writes)})
    try:
        _call("modify_user", adm.request, "post", f"/{adm._admin}/user?{query}")
    except StorageError as exc:
        if exc.code != "NoSuchUser":
            raise


def scoped_user_remove(*, tenant: str, user: str) -> None:
    """Remove the key's user and its key; objects it wrote stay in the project's buckets.
    Removing a user already gone succeeds."""
    try:
        _call("remove_user", _client().remove_user, uid=scoped_uid(tenant, user), purge_data=False)
    except StorageError as exc:
        if exc.code != "NoSuchUser":
            raise


def scoped_user_secret(*, tenant: str, user: str) -> str | None:
    try:
        answer = _call("get_user", _client().get_user, uid=scoped_uid(tenant, user))
    except StorageError as exc:
        if exc.code == "NoSuchUser":
            return None
        raise
    keys = (answer or {}).get("keys", [])
    return str(keys[0]["secret_key"]) if keys else None


# Exactly what keys.services names them: "k" + the access key id ("LK" + 18) in lower case. A
# looser match would take a project's own user "T$T" for a scoped key when T starts with "k".
SCOPED_USER = re.compile(r"^klk[a-z0-9]{18}$")


def scoped_users() -> dict[str, set[str]]:
    """Every user of its own that holds a Latchkey key, by tenant (one admin call for the whole
    cluster: the metadata listing of users). Those of RGW accounts, which have no tenant, are
    under ""."""
    found: dict[str, set[str]] = {}
    for entry in _call("get_users", _client().get_users) or []:
        tenant, sep, user = str(entry).partition("$")
        if sep and user != tenant and SCOPED_USER.match(user):
            found.setdefault(tenant, set()).add(user)
        elif not sep and SCOPED_USER.match(tenant):
            found.setdefault("", set()).add(tenant)
    return found


def ping(*, timeout: float = 2.0) -> None:
    """Raise StorageUnavailable unless radosgw answers HTTP at all (its cheapest request, an
    anonymous GET /). Used by the readiness check."""
    try:
        answer = requests.get(settings.LATCHKEY_RGW_ADMIN_URL, timeout=timeout)
    except requests.RequestException as exc:
        raise StorageUnavailable(f"the storage service did not answer ({type(exc).__name__})") from None
    if answer.status_code >= 500:
        raise StorageUnavailable(f"the storage service answered HTTP {answer.status_code}")


def region() -> str:
    """The zonegroup's api_name, the only region every client accepts (bucket creation included).
    The admin API does not expose it, so it comes from settings: the stack scripts read it with
    ``radosgw-admin zonegroup get``, and operators do the same."""
    return str(settings.LATCHKEY_S3_REGION)


def s3_client(*, access_key: str, secret_key: str, endpoint: str | None = None) -> Any:
    """A boto3 S3 client for a member's key, configured as the client-config facts require."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint or settings.LATCHKEY_S3_ENDPOINT,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=region(),
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            connect_timeout=settings.LATCHKEY_RGW_TIMEOUT,
            read_timeout=settings.LATCHKEY_RGW_TIMEOUT,
            retries={"max_attempts": 2, "mode": "standard"},
        ),
    )


class RevocationUnproven(StorageError):
    """Ceph removed the key but S3 still accepted a request signed with it afterwards."""


def _s3_accepts(access_key: str, secret_key: str, endpoint: str) -> bool:
    client = s3_client(access_key=access_key, secret_key=secret_key, endpoint=endpoint)
    try:
        client.list_buckets()
    except ClientError:
        return False  # InvalidAccessKeyId, AccessDenied, UserSuspended...: refused
    except (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError):
        log.warning("revocation proof: %s did not answer; a gateway that is down serves no key", endpoint)
        return False
    return True


def key_remove_proven(
    *, access_key: str, endpoints: list[str], secret: str | None, remove: Any, within: float = 2.0
) -> float:
    """Remove an S3 key with ``remove()`` and prove it: ``secret`` (read from Ceph just before by
    the caller, kept in memory only) signs one request per endpoint afterwards, and each must be
    refused. Gateways learn of the removal through Ceph's cache notifications, so an endpoint
    still accepting is asked again for up to ``within`` seconds, and the removal is repeated once
    half-way. Returns the seconds from the removal to the last refusal; raises
    RevocationUnproven (logged, counted) if an endpoint still accepts the key."""
    remove()
    removed = time.monotonic()
    if secret is None:
        return 0.0  # Ceph did not have it: there is nothing S3 could accept it with
    pending = list(endpoints)
    repeated = False
    while True:
        pending = [url for url in pending if _s3_accepts(access_key, secret, url)]
        elapsed = time.monotonic() - removed
        if not pending:
            REVOCATION_PROOF_SECONDS.observe(elapsed)
            return elapsed
        if elapsed > within:
            for url in pending:
                REVOCATION_UNPROVEN.labels(url).inc()
            log.error("revocation: S3 still accepts key %s at %s %.1fs after its removal", access_key, pending, elapsed)
            raise RevocationUnproven(f"S3 still accepts the removed key at {', '.join(pending)}", code="StillAccepted")
        if not repeated and elapsed > within / 2:
            remove()
            repeated = True
        time.sleep(0.05)


# --- Buckets and bucket policies -------------------------------------------------------------
# Latchkey's admin user is a --system user: it may read and write the policy of any tenant's
# bucket over S3, addressing it as "T:bucket". It cannot create a bucket in another tenant (RGW
# answers 500), so creation uses a short-lived key of the project user, removed at once.


def _s3_once(operation: str, func: Any, *args: Any, expected: tuple[str, ...] = (), **kwargs: Any) -> Any:
    started = time.perf_counter()
    try:
        return func(*args, **kwargs)
    except (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError) as exc:
        log.warning("s3 %s: unavailable (%s)", operation, type(exc).__name__)
        CEPH_ERRORS.labels(operation, "unavailable").inc()
        raise StorageUnavailable(f"the storage service did not answer ({operation})") from None
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", "Unknown"))
        if code not in expected:
            log.warning("s3 %s: refused with %s", operation, code)
            CEPH_ERRORS.labels(operation, code[:40]).inc()
        raise StorageError(f"the storage service refused {operation}: {code}", code=code) from None
    finally:
        CEPH_SECONDS.labels(operation).observe(time.perf_counter() - started)


def _s3_call(
    operation: str, func: Any, *args: Any, expected: tuple[str, ...] = (), conflicts: bool = False, **kwargs: Any
) -> Any:
    """One S3 or IAM call; ``conflicts`` marks a write to a user record (an IAM user's policy),
    retried like ``_call``'s user writes while radosgw refuses it as a concurrent modification."""
    quiet = (*expected, *CONFLICTS) if conflicts else expected
    return _retrying(
        "s3",
        operation,
        lambda: _s3_once(operation, func, *args, expected=quiet, **kwargs),
        retried=conflicts,
        counted=False,
    )


def allow_tenant_buckets(client: Any) -> Any:
    # botocore rejects "T:bucket"; RGW needs exactly that to name another tenant's bucket.
    client.meta.events.unregister("before-parameter-build.s3", validate_bucket_name)
    return client


def _close_after(request: Any, **_: Any) -> None:
    request.headers["Connection"] = "close"


@functools.lru_cache(maxsize=4)
def _system_s3(endpoint: str, access_key: str, secret_key: str) -> Any:
    client = allow_tenant_buckets(s3_client(access_key=access_key, secret_key=secret_key, endpoint=endpoint))
    # A fresh connection per call, as for the admin API (see _admin): on a reused one radosgw's
    # answers waited ~40 ms for delayed ACKs (measured: policy get+put 53 ms reused, 11 ms fresh).
    client.meta.events.register("before-send.s3", _close_after)
    return client


@functools.lru_cache(maxsize=4)
def _iam_client(endpoint: str, access_key: str, secret_key: str, region_name: str, timeout: float) -> Any:
    client = boto3.client(
        "iam",
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=region_name,
        config=Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 2, "mode": "standard"}),
    )
    client.meta.events.register("before-send.iam", _close_after)  # fresh connections, as _system_s3
    return client


def _iam() -> Any:
    """IAM as Latchkey's admin user: only the policies of IAM users, named by their user id (the
    other IAM calls need an identity inside the account)."""
    return _iam_client(
        settings.LATCHKEY_RGW_ADMIN_URL,
        settings.LATCHKEY_RGW_ADMIN_ACCESS_KEY,
        settings.LATCHKEY_RGW_ADMIN_SECRET_KEY,
        region(),
        settings.LATCHKEY_RGW_TIMEOUT,
    )


def _system() -> Any:
    return _system_s3(
        settings.LATCHKEY_S3_ENDPOINT, settings.LATCHKEY_RGW_ADMIN_ACCESS_KEY, settings.LATCHKEY_RGW_ADMIN_SECRET_KEY
    )


@writes_user
def bucket_create(*, tenant: str, name: str) -> None:
    """Create bucket ``name`` owned by the project user ``T$T``.

    A key of ``T$T`` itself is made for this one call and removed straight after; its secret
    exists only in this function's memory. If the process dies in between, the key reconciler
    reports the leftover (its id starts with "LKTMP")."""
    access_key = "LKTMP" + secrets.token_hex(8).upper()[:15]
    keys = _call(
        "create_key",
        _client().create_key,
        uid=uid(tenant),
        key_type="s3",
        access_key=access_key,
        generate_key=True,
        user_write=True,
    )
    secret = next(str(k["secret_key"]) for k in keys if k.get("access_key") == access_key)
    try:
        owner = s3_client(access_key=access_key, secret_key=secret)
        _s3_call("create_bucket", owner.create_bucket, Bucket=name)
    finally:
        key_remove(tenant=tenant, access_key=access_key)


def _ref(tenant: str, name: str, separator: str = ":") -> str:
    """A bucket as Latchkey's system user names it: ``T:name`` in a tenant, the plain name for an
    account's bucket (``tenant`` empty)."""
    return f"{tenant}{separator}{name}" if tenant else name


def bucket_remove(*, tenant: str, name: str) -> None:
    """Remove an empty bucket (its policy goes with it). A bucket with objects is refused with
    code BucketNotEmpty; a bucket already gone succeeds. ``tenant`` empty: an account's bucket."""
    try:
        _call("remove_bucket", _client().remove_bucket, bucket=_ref(tenant, name, "/"), purge_objects=False)
    except StorageError as exc:
        if exc.code != "NoSuchBucket":
            raise


def bucket_acl_private(*, tenant: str, name: str) -> None:
    """The bucket's own ACL back to private (its owner only), as the system user."""
    _s3_call("put_bucket_acl", _system().put_bucket_acl, Bucket=_ref(tenant, name), ACL="private")


def bucket_policy_get(*, tenant: str, name: str) -> dict[str, Any] | None:
    """The bucket's policy as Ceph holds it, or None when it has none."""
    try:
        answer = _s3_call(
            "get_bucket_policy",
            _system().get_bucket_policy,
            Bucket=_ref(tenant, name),
            expected=("NoSuchBucketPolicy",),
        )
    except StorageError as exc:
        if exc.code == "NoSuchBucketPolicy":
            return None
        raise
    try:
        policy = json.loads(answer["Policy"])
    except ValueError:
        raise StorageError("the bucket's policy is not valid JSON", code="MalformedPolicy") from None
    return policy if isinstance(policy, dict) else None


def bucket_policy_put(*, tenant: str, name: str, policy: dict[str, Any] | None) -> None:
    """Write the bucket's whole policy; None removes it."""
    if policy is None:
        _s3_call("delete_bucket_policy", _system().delete_bucket_policy, Bucket=_ref(tenant, name))
    else:
        _s3_call("put_bucket_policy", _system().put_bucket_policy, Bucket=_ref(tenant, name), Policy=json.dumps(policy))


def object_presign_get(*, access_key: str, secret_key: str, bucket: str, key: str, seconds: int) -> str:
    """A presigned GET URL signed with a member's key (computed locally, no call to Ceph)."""
    client = s3_client(access_key=access_key, secret_key=secret_key)
    url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=seconds)
    return str(url)
