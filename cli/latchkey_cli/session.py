"""Talking to a Latchkey server: the device login, the saved token (0600, refreshed when it
expires) and JSON calls whose errors become one clear line."""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import requests

CLIENT_ID = "latchkey-cli"
TIMEOUT = 30


class CliError(Exception):
    """Shown to the person as it is, and the command exits with status 1."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status  # the server's HTTP status, when the server refused


def state_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "latchkey"


def _token_file() -> Path:
    return state_dir() / "token.json"


def save_private(path: Path, data: dict[str, Any]) -> None:
    """Atomically, 0600 from the start, never through a symbolic link: the file holds a secret (a
    refresh token, a cached key). A link planted at the path (say, into a shared folder) is refused,
    not followed; the new content goes to a fresh private file that then replaces the old one in
    one step."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.is_symlink() or path.parent.is_symlink():
        raise CliError(f"{path} is a symbolic link; Latchkey will not write a secret through one. Remove it.")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".json")  # 0600, O_EXCL
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise CliError(f"{path}: cannot save it ({exc.strerror})") from None


def _load() -> dict[str, Any]:
    if _token_file().is_symlink():
        raise CliError(f"{_token_file()} is a symbolic link; remove it and run `latchkey login` again.")
    try:
        return dict(json.loads(_token_file().read_text()))
    except FileNotFoundError:
        raise CliError("Not logged in: run `latchkey login --server https://your-latchkey-site`.") from None
    except (OSError, ValueError):
        raise CliError(f"{_token_file()} is damaged: run `latchkey login` again.") from None


def _discovery(server: str) -> dict[str, Any]:
    try:
        answer = requests.get(f"{server}/.well-known/openid-configuration", timeout=TIMEOUT)
        answer.raise_for_status()
        return dict(answer.json())
    except (requests.RequestException, ValueError):
        raise CliError(f"{server} does not answer as a Latchkey site (no OpenID configuration).") from None


def login(server: str, *, say: Callable[[str], None] = print, sleep: Callable[[float], None] = time.sleep) -> str:
    """The device authorization grant (RFC 8628): a URL and a code to approve in any browser."""
    server = server.rstrip("/")
    config = _discovery(server)
    try:
        start = requests.post(
            config["device_authorization_endpoint"],
            data={"client_id": CLIENT_ID, "scope": "openid profile"},
            timeout=TIMEOUT,
        )
    except (requests.RequestException, KeyError):
        raise CliError(f"{server} did not answer the device login request.") from None
    if start.status_code == 429:
        raise CliError("Too many login attempts from this address: wait a minute and try again.")
    try:
        start.raise_for_status()
        device = start.json()
    except (requests.RequestException, ValueError):
        raise CliError(f"{server} refused to start a device login ({start.status_code}).") from None
    url = device.get("verification_uri_complete") or device["verification_uri"]
    say(f"Open {device['verification_uri']} in a browser and enter the code {device['user_code']}")
    if url != device["verification_uri"]:
        say(f"(or open {url})")
    say("Waiting for approval...")
    interval = float(device.get("interval", 5))
    deadline = time.monotonic() + float(device.get("expires_in", 600))
    while time.monotonic() < deadline:
        sleep(interval)
        answer = requests.post(
            config["token_endpoint"],
            timeout=TIMEOUT,
            data={
                "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                "device_code": device["device_code"],
                "client_id": CLIENT_ID,
            },
        )
        body = answer.json() if answer.headers.get("content-type", "").startswith("application/json") else {}
        if answer.status_code == 200 and "access_token" in body:
            _store_tokens(server, config["token_endpoint"], body)
            return server
        error = body.get("error", "")
        if error == "authorization_pending":
            continue
        if error == "slow_down":
            interval += 5
            continue
        if error == "access_denied":
            raise CliError("The login was denied in the browser.")
        if error == "expired_token":
            break
        raise CliError(f"The login failed: {error or answer.status_code}.")
    raise CliError("The code expired before it was approved: run `latchkey login` again.")


def _store_tokens(server: str, token_endpoint: str, body: dict[str, Any]) -> None:
    save_private(
        _token_file(),
        {
            "server": server,
            "token_endpoint": token_endpoint,
            "access_token": body["access_token"],
            "refresh_token": body.get("refresh_token"),
            "expires_at": time.time() + float(body.get("expires_in", 3600)) - 30,
        },
    )


def logout() -> None:
    _token_file().unlink(missing_ok=True)


def _refresh(saved: dict[str, Any]) -> dict[str, Any]:
    if not saved.get("refresh_token"):
        raise CliError("Your login has expired: run `latchkey login` again.")
    answer = requests.post(
        saved["token_endpoint"],
        timeout=TIMEOUT,
        data={"grant_type": "refresh_token", "refresh_token": saved["refresh_token"], "client_id": CLIENT_ID},
    )
    if answer.status_code != 200:
        raise CliError("Your login has expired: run `latchkey login` again.")
    _store_tokens(saved["server"], saved["token_endpoint"], answer.json())
    return _load()


class Api:
    def __init__(self) -> None:
        saved = _load()
        if time.time() >= float(saved.get("expires_at", 0)):
            saved = _refresh(saved)
        self.server = str(saved["server"])
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {saved['access_token']}"

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            answer = self.session.request(method, f"{self.server}/api/v1/{path}", json=body, timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise CliError(f"{self.server} did not answer ({type(exc).__name__}).") from None
        if answer.status_code == 204:
            return None
        try:
            data = answer.json()
        except ValueError:
            raise CliError(f"{self.server} answered {answer.status_code} without JSON.") from None
        if answer.status_code >= 400:
            raise CliError(_explain(answer.status_code, data), status=answer.status_code)
        return data


def api_time(text: str) -> datetime:
    """A time the API gave, in UTC (the CLI runs on Pythons before 3.11, which do not read "Z")."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)  # noqa: UP017 (older Pythons)


def _explain(status: int, data: Any) -> str:
    if status == 401:
        return "Your login is not valid any more: run `latchkey login` again."
    if isinstance(data, dict) and isinstance(data.get("errors"), dict):
        parts = [
            f"{field}: {' '.join(map(str, msgs))}" if field != "non_field_errors" else " ".join(map(str, msgs))
            for field, msgs in data["errors"].items()
        ]
        return "; ".join(parts)
    if isinstance(data, dict) and "detail" in data:
        return str(data["detail"])
    return f"The server answered {status}."
