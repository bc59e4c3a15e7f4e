"""Where a project lives in Ceph, and the one interface to it whichever model it uses.

- The tenant model (Ceph 16, 18, and projects that already live in a tenant on 20): tenant ``T``
  with one user ``T$T`` owning the buckets and the quota, a subuser per member for their keys, a
  user of its own per scoped or read-only key, rights in bucket policies (storage/client.py).
- The accounts model (Ceph 19 and later): an RGW account, and every key an IAM user whose own
  policy carries its rights and its end (storage/accounts.py, storage/identity.py).

Above storage/, a project hands its ``Home`` on and asks what it needs in its own terms; the two
questions the rest of Latchkey asks are capabilities, not the model: whether a key's rights
live in the key itself (``rights_in_keys``), and whether a key is a user of its own.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from storage import accounts, client
from storage.client import BucketFigures, StorageError, StorageUnavailable, Usage
from storage.identity import KeyRights, key_policy

TENANT, ACCOUNT = "tenant", "account"
__all__ = ["ACCOUNT", "AUTO", "TENANT", "BucketFigures", "Home", "StorageError", "StorageUnavailable", "Usage"]


@dataclass(frozen=True)
class Home:
    tenant: str  # the project's tenant; on the accounts model, only a name (locks, the account's name)
    model: str = TENANT
    account: str = ""  # the RGW account's id, once made

    @property
    def rights_in_keys(self) -> bool:
        """Whether each key's own policy holds its rights (and its end), rather than bucket
        policies and a member's subuser."""
        return self.model == ACCOUNT

    def address(self, name: str) -> str:
        """How a key of another project names this bucket (tenant users need ``:name`` for an
        account's bucket, account users ``T:name`` for a tenant's)."""
        return f":{name}" if self.model == ACCOUNT else f"{self.tenant}:{name}"


AUTO = "auto"


def model_for_new(setting: str) -> str:
    """Where a new project lives: ``setting`` (LATCHKEY_STORAGE_MODEL), where "auto" means an
    account on a cluster that has accounts and a tenant on one that has not. Raises StorageError
    if Ceph cannot be asked."""
    if setting != AUTO:
        return setting
    return ACCOUNT if _accounts_available() else TENANT


@functools.lru_cache(maxsize=1)  # an answer only (a raised error is asked again); a release per process
def _accounts_available() -> bool:
    return accounts.accounts_available()


def key_on_own_user(home: Home, *, scoped: bool) -> bool:
    """Whether a key is the one key of a user of its own (else a key of its owner's subuser)."""
    return scoped or home.model == ACCOUNT


# --- The project ------------------------------------------------------------------------------


def provision(home: Home, *, display_name: str) -> Home:
    """Make the project exist in Ceph (safe to repeat); returns its home with what Ceph chose."""
    if home.model == ACCOUNT:
        made = accounts.account_ensure(name=home.tenant)
        return Home(tenant=home.tenant, model=ACCOUNT, account=made.id)
    client.project_user_ensure(tenant=home.tenant, display_name=display_name)
    return home


def quota_set(home: Home, *, max_bytes: int | None, max_objects: int | None, max_buckets: int | None) -> None:
    if home.model == ACCOUNT:
        accounts.account_quota_set(account_id=home.account, max_bytes=max_bytes, max_objects=max_objects)
        accounts.account_limits_set(account_id=home.account, max_buckets=max_buckets)
    else:
        client.project_quota_set(
            tenant=home.tenant, max_bytes=max_bytes, max_objects=max_objects, max_buckets=max_buckets
        )


def suspend(home: Home, *, suspended: bool) -> None:
    """Refuse (or restore) every key of the project while its data stays. On the accounts model
    the project's keys are revoked one by one (each is a user of its own) and nothing else holds
    a key, so there is nothing more to refuse."""
    if home.model != ACCOUNT:
        client.project_user_suspend(tenant=home.tenant, suspended=suspended)


def usage(home: Home) -> Usage:
    if home.model == ACCOUNT:
        return accounts.account_usage(account_id=home.account)
    return client.project_usage(tenant=home.tenant)


def buckets(home: Home) -> list[BucketFigures]:
    if home.model == ACCOUNT:
        return accounts.account_buckets(account_id=home.account)
    return client.project_buckets(tenant=home.tenant)


# --- Members (the tenant model's subusers; the accounts model has none) ---------------------


def member_ensure(home: Home, *, name: str, access: str) -> None:
    if home.model != ACCOUNT:
        client.subuser_ensure(tenant=home.tenant, name=name, access=access)


def member_remove(home: Home, *, name: str) -> None:
    if home.model != ACCOUNT:
        client.subuser_remove(tenant=home.tenant, name=name)


# --- Buckets ----------------------------------------------------------------------------------


def bucket_create(home: Home, *, name: str) -> None:
    if home.model == ACCOUNT:
        accounts.account_bucket_create(account_id=home.account, name=name)
    else:
        client.bucket_create(tenant=home.tenant, name=name)


def _system_tenant(home: Home) -> str:
    """The tenant Latchkey's system user names the bucket with; none for an account's bucket."""
    return "" if home.model == ACCOUNT else home.tenant


def bucket_remove(home: Home, *, name: str) -> None:
    client.bucket_remove(tenant=_system_tenant(home), name=name)


def bucket_acl_private(home: Home, *, name: str) -> None:
    client.bucket_acl_private(tenant=_system_tenant(home), name=name)


def bucket_policy_get(home: Home, *, name: str) -> dict[str, Any] | None:
    return client.bucket_policy_get(tenant=_system_tenant(home), name=name)


def bucket_policy_put(home: Home, *, name: str, policy: dict[str, Any] | None) -> None:
    client.bucket_policy_put(tenant=_system_tenant(home), name=name, policy=policy)


# --- Principals in bucket policies ------------------------------------------------------------


def principal_project(home: Home) -> str:
    """Every member of the project (on the accounts model: every key of the account, each held to
    its own policy as well)."""
    return (
        f"arn:aws:iam::{home.account}:root"
        if home.model == ACCOUNT
        else f"arn:aws:iam::{home.tenant}:user/{home.tenant}"
    )


def principal_key(home: Home, user: str) -> str:
    """One key's own user."""
    if home.model == ACCOUNT:
        return f"arn:aws:iam::{home.account}:user{accounts.USER_PATH}{user}"
    return f"arn:aws:iam::{home.tenant}:user/{user}"


# --- Keys -------------------------------------------------------------------------------------


def key_create(
    home: Home, *, access_key: str, subuser: str = "", user: str = "", writes: bool, rights: KeyRights
) -> str:
    """Make the key (on ``subuser``, or as the one key of ``user``); returns the secret Ceph
    generated. ``writes``: the tenant model's floor for a key of its own (op-mask); ``rights``:
    the accounts model's whole policy."""
    if home.model == ACCOUNT:
        return accounts.key_user_create(
            account_id=home.account, user=user, access_key=access_key, policy=key_policy(rights)
        )
    if user:
        return client.scoped_user_create(tenant=home.tenant, user=user, access_key=access_key, writes=writes)
    return client.key_create(tenant=home.tenant, subuser=subuser, access_key=access_key)


def key_rights_put(home: Home, *, user: str, writes: bool, rights: KeyRights) -> None:
    """A key of its own user after its rights or its end changed."""
    if home.model == ACCOUNT:
        accounts.key_user_policy_put(user=user, policy=key_policy(rights))
    else:
        client.scoped_user_writes(tenant=home.tenant, user=user, writes=writes)


def key_rights_drifted(home: Home, *, user: str, rights: KeyRights) -> bool:
    """Whether Ceph holds other rights for the key than ``rights`` (the drift check)."""
    if home.model != ACCOUNT:
        return False
    return accounts.key_user_policy_get(user=user) != key_policy(rights)


def key_remove(home: Home, *, access_key: str, user: str = "") -> None:
    """Remove the key (a key of its own user: the user). Safe to repeat."""
    if home.model == ACCOUNT:
        accounts.key_user_suspend(user=user)
        accounts.key_user_remove(user=user)
    elif user:
        client.scoped_user_remove(tenant=home.tenant, user=user)
    else:
        client.key_remove(tenant=home.tenant, access_key=access_key)


def key_secret(home: Home, *, access_key: str, user: str = "") -> str | None:
    if home.model == ACCOUNT:
        return accounts.key_user_secret(user=user)
    if user:
        return client.scoped_user_secret(tenant=home.tenant, user=user)
    return client.key_secret(tenant=home.tenant, access_key=access_key)


def key_remove_proven(home: Home, *, access_key: str, endpoints: list[str], user: str = "") -> float:
    """Remove the key and prove S3 refuses it at every endpoint (client.key_remove_proven)."""
    return client.key_remove_proven(
        access_key=access_key,
        endpoints=endpoints,
        secret=key_secret(home, access_key=access_key, user=user),
        remove=lambda: key_remove(home, access_key=access_key, user=user),
    )
