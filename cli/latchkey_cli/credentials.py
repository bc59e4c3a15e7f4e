"""`latchkey credentials`: a key for the AWS SDKs' `credential_process`, renewed before it ends.

The key is cached in one file per project and scope (`~/.config/latchkey/credentials/`, 0600,
written atomically: it holds the secret, as ~/.aws/credentials would), reused while it is live on
the server and more than `--renew-minutes` from its end, then replaced by a new key and the old
one deleted. A lock per cache file keeps parallel jobs (every aws or boto3 process calls the
command) from each making a key. A deletion that fails is retried on the next call; the key
ends on time anyway.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from latchkey_cli import scope as scopes
from latchkey_cli.session import Api, CliError, api_time, save_private, state_dir

RENEW_MINUTES = 15
FIELDS = ("server", "access_key_id", "secret_key", "expires_at")


def cache_path(project: str, scope: scopes.Scope | None) -> Path:
    return state_dir() / "credentials" / f"{project}-{scopes.scope_id(scope)}.json"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise CliError(f"{path.parent}: cannot lock the key cache there ({exc.strerror})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def read_cache(path: Path) -> dict[str, Any] | None:
    """The cached key, or None (no file, or a damaged one: a new key replaces it)."""
    if path.is_symlink():
        raise CliError(f"{path} is a symbolic link; Latchkey will not read a key through one. Remove it.")
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(f), str) for f in FIELDS):
        return None
    return data


def process_answer(entry: dict[str, Any]) -> dict[str, Any]:
    """What credential_process prints (https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-sourcing-external.html)."""
    return {
        "Version": 1,
        "AccessKeyId": entry["access_key_id"],
        "SecretAccessKey": entry["secret_key"],
        "Expiration": api_time(entry["expires_at"]).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def revoke(api: Api, project: str, access_key_id: str) -> None:
    try:
        api.call("DELETE", f"projects/{project}/keys/{access_key_id}/")
    except CliError as exc:
        # 404: gone already; 400 on a bodiless DELETE: the key has already ended. Both are done.
        if exc.status not in (400, 404):
            raise


def _live(api: Api, project: str, access_key_id: str) -> bool:
    try:
        key = api.call("GET", f"projects/{project}/keys/{access_key_id}/")
    except CliError as exc:
        if exc.status == 404:
            return False
        raise
    return isinstance(key, dict) and key.get("status") == "active"


def _settle(api: Api, path: Path, entry: dict[str, Any], project: str) -> None:
    """Delete the keys this entry replaced; those the server could not delete now stay listed."""
    left = []
    for access_key_id in entry.get("revoke") or []:
        try:
            revoke(api, project, access_key_id)
        except CliError:
            left.append(access_key_id)
    if left != (entry.get("revoke") or []):
        save_private(path, {**entry, "revoke": left})


def adopt(api: Api, path: Path, *, project: str, made: dict[str, Any]) -> dict[str, Any]:
    """Cache the key ``made`` (the API's answer to a creation) in ``path``, then delete the key it
    replaces. Call with the cache locked."""
    old = read_cache(path)
    replaced = []
    if old and old["server"] == api.server:
        replaced = [*(old.get("revoke") or []), old["access_key_id"]]
    entry = {
        "server": api.server,
        "access_key_id": made["key"]["access_key_id"],
        "secret_key": made["secret_key"],
        "expires_at": made["key"]["expires_at"],
        "revoke": replaced,
    }
    save_private(path, entry)  # before any deletion: a crash now leaves at most a key that ends on time
    _settle(api, path, entry, project)
    return entry


def description(what: str) -> str:
    return f"{what} on {socket.gethostname()}"[:200]


def credentials(
    api: Api, *, project: str, scope: scopes.Scope | None, hours: int, renew_minutes: int
) -> dict[str, Any]:
    if renew_minutes < 0:
        raise CliError("--renew-minutes is a number of minutes, 0 or more.")
    path = cache_path(project, scope)
    with _locked(path):
        cached = read_cache(path)
        if cached and cached["server"] == api.server:
            left = api_time(cached["expires_at"]) - datetime.now(timezone.utc)  # noqa: UP017
            if left > timedelta(minutes=renew_minutes) and _live(api, project, cached["access_key_id"]):
                _settle(api, path, cached, project)
                return process_answer(cached)
        what = f"latchkey credentials ({scopes.label(scope)})"
        body = scopes.key_body(description=description(what), hours=hours, scope=scope)
        made = api.call("POST", f"projects/{project}/keys/", body)
        return process_answer(adopt(api, path, project=project, made=made))


@contextmanager
def cache_locked(project: str, scope: scopes.Scope | None) -> Iterator[Path]:
    """The cache file of ``project`` and ``scope``, locked for the block (for configure)."""
    path = cache_path(project, scope)
    with _locked(path):
        yield path


def forget(api: Api, path: Path, project: str) -> list[str]:
    """Delete the cached key (and any it still had to delete) and the cache file; the ids deleted."""
    with _locked(path):
        cached = read_cache(path)
        ids = [*(cached.get("revoke") or []), cached["access_key_id"]] if cached else []
        for access_key_id in ids:
            revoke(api, project, access_key_id)
        # The lock file stays: a process waiting on it and one opening a new file would each
        # hold "the" lock and each make a key.
        path.unlink(missing_ok=True)
    return ids
