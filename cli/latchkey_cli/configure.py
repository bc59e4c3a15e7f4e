"""`latchkey configure`: a new key written into the clients' own files, and `--remove` undoing it.

Each client's file is found as the client finds it (its environment variable, else the default
path). Only Latchkey's section changes (for s3cmd, which reads only [default], only the keys
Latchkey sets); what was there before is remembered, so `--remove` puts it back, and a backup
`<file>.latchkey-backup` is kept. Every file is checked before the key is made, and if a write
fails the files already written are restored and the key is revoked: nothing is left half-done.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from latchkey_cli import credentials, inifile
from latchkey_cli import scope as scopes
from latchkey_cli.session import Api, CliError, state_dir

CLIENTS = ("rclone", "s3cmd", "aws")
KEY_LINE = re.compile(r"^\s*([^=:\s#;\[][^=:]*?)\s*[=:]")


@dataclass(frozen=True)
class Target:
    path: Path
    section: str
    config: str  # the server's config id, e.g. "aws-credentials"


def targets(client: str, project: str) -> list[Target]:
    home, name = Path.home(), f"latchkey-{project}"
    env = os.environ.get
    if client == "rclone":
        return [Target(Path(env("RCLONE_CONFIG") or home / ".config/rclone/rclone.conf"), name, "rclone")]
    if client == "s3cmd":
        return [Target(Path(env("S3CMD_CONFIG") or home / ".s3cfg"), "default", "s3cmd")]
    if client == "aws":
        credentials = Path(env("AWS_SHARED_CREDENTIALS_FILE") or home / ".aws/credentials")
        config = Path(env("AWS_CONFIG_FILE") or home / ".aws/config")
        return [Target(credentials, name, "aws-credentials"), Target(config, f"profile {name}", "aws-config")]
    raise CliError(f"Unknown client {client!r}: choose from {', '.join(CLIENTS)}.")


def parse_clients(text: str | None, *, credential_process: bool = False) -> list[str]:
    if text is None:
        return ["aws"] if credential_process else list(CLIENTS)
    clients = [c.strip() for c in text.split(",") if c.strip()]
    unknown = [c for c in clients if c not in CLIENTS]
    if not clients or unknown:
        raise CliError(f"Unknown client {', '.join(unknown) or '(none)'}: choose from {', '.join(CLIENTS)}.")
    if credential_process and clients != ["aws"]:
        raise CliError("--credential-process is for --client aws only: rclone and s3cmd cannot run a command.")
    return list(dict.fromkeys(clients))


def _with_process(aws_config: str, command: list[str]) -> str:
    """The profile as the server writes it, getting its keys from ``command`` instead."""
    lines = aws_config.splitlines(keepends=True)
    at = next((i for i, line in enumerate(lines) if inifile.HEADER.match(line.strip())), None)
    if at is None:
        raise CliError("The site sent an aws config without a profile; it cannot be used.")
    process = f"credential_process = {shlex.join(command)}\n"
    return "".join([*lines[: at + 1], process, *lines[at + 1 :]])


def _merge(old: str | None, new: str) -> str:
    """``new`` (a whole section) laid over ``old``: keys ``new`` sets are replaced in place, the
    others kept, missing ones added at the end."""
    if old is None:
        return new
    new_lines = new.splitlines(keepends=True)[1:]
    wanted = {m.group(1).strip(): line for line in new_lines if (m := KEY_LINE.match(line))}
    out, seen = [], set()
    for line in old.splitlines(keepends=True):
        match = KEY_LINE.match(line)
        key = match.group(1).strip() if match else None
        if key in wanted:
            if key not in seen:
                out.append(wanted[key])
                seen.add(key)
            continue
        out.append(line if line.endswith("\n") else line + "\n")
    while out and not out[-1].strip():
        out.pop()
    out.extend(line for key, line in wanted.items() if key not in seen)
    return "".join(out)


def _state_file() -> Path:
    return state_dir() / "configured.json"


def _state() -> dict[str, Any]:
    try:
        return dict(json.loads(_state_file().read_text()))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        raise CliError(f"{_state_file()} is damaged; remove it and configure again.") from None


def _save_state(state: dict[str, Any]) -> None:
    inifile.write(_state_file(), json.dumps(state, indent=2), backup=False)


def configure(
    api: Api,
    *,
    project: str,
    clients: list[str],
    hours: int,
    endpoint: str | None,
    scope: scopes.Scope | None = None,
    process: list[str] | None = None,
) -> list[str]:
    """Write a new key into ``clients``' files; with ``process`` (the `latchkey credentials` command
    line), the aws profile runs that command instead and no file but the key cache holds a secret."""
    plan = [t for c in clients for t in targets(c, project)]
    texts = {t.path: inifile.read(t.path) for t in plan}  # refuses invalid files before anything changes
    state = _state()
    previous = state.get(project)
    originals = {(f["path"], f["section"]): f for f in (previous or {}).get("files", [])}
    if process:  # static keys in ~/.aws/credentials would win over credential_process: ours go
        plan = [
            t
            for t in plan
            if t.config != "aws-credentials"
            or inifile.section(texts[t.path], t.section)
            or (str(t.path), t.section) in originals  # taken out before: its original is kept for --remove
        ]
    for t in plan:  # a first check; the writes themselves are undone if one still fails
        folder = next(p for p in (t.path, *t.path.parents) if p.exists())
        if not os.access(folder, os.W_OK) or (folder != t.path and not folder.is_dir()):
            raise CliError(f"{t.path}: no permission to write it.")
    what = "aws credential_process" if process else ",".join(clients)
    description = credentials.description(f"latchkey configure ({what}, {scopes.label(scope)})")
    body = scopes.key_body(description=description, hours=hours, scope=scope)
    if endpoint:
        body["endpoint"] = endpoint
    created = api.call("POST", f"projects/{project}/keys/", body)
    configs = {c["client"]: c["content"] for c in created["configs"]}
    records: list[dict[str, Any]] = []
    try:
        for t in plan:
            text = texts[t.path]
            old = inifile.section(text, t.section)
            new: str | None = configs[t.config]
            if process and new is not None:
                new = _with_process(new, process) if t.config == "aws-config" else None
            if t.section == "default" and new is not None:  # s3cmd: our keys over the user's [default]
                new = _merge(old, new)
            texts[t.path] = inifile.splice(text, t.section, new)
            inifile.write(t.path, texts[t.path], backup=True)
            first = originals.get((str(t.path), t.section))
            records.append(
                first
                or {
                    "path": str(t.path),
                    "section": t.section,
                    "original": old,
                    "created": not text,
                    "trailing": len(text) - len(text.rstrip("\n")),
                }
            )
    except inifile.ConfigFileError:
        _undo(records)
        api.call("DELETE", f"projects/{project}/keys/{created['key']['access_key_id']}/")
        raise
    entry = {"server": api.server, "access_key_id": created["key"]["access_key_id"], "files": records}
    if process:
        with credentials.cache_locked(project, scope) as cache:  # the first aws call uses this key
            credentials.adopt(api, cache, project=project, made=created)
        entry["cache"] = str(cache)
    state[project] = entry
    _save_state(state)
    if previous:  # the key this replaces
        if previous.get("cache") and previous["cache"] != entry.get("cache"):
            credentials.forget(api, Path(previous["cache"]), project)
        credentials.revoke(api, project, previous["access_key_id"])
    return [f"{t.path} [{t.section}]" for t in plan] + [
        f"key {created['key']['access_key_id']} expires {created['key']['expires_at']}"
        + (" (then renewed by `latchkey credentials`)" if process else "")
    ]


def _undo(records: list[dict[str, Any]]) -> None:
    for record in records:
        path = Path(record["path"])
        text = inifile.splice(inifile.read(path), record["section"], record["original"])
        if record["original"] is None and text.strip():  # the blank line added before our section goes too
            text = text.rstrip("\n") + "\n" * max(1, int(record.get("trailing", 1)))
        if record["created"] and not text.strip():
            path.unlink(missing_ok=True)
        else:
            inifile.write(path, text, backup=False)


def remove(api: Api, *, project: str) -> list[str]:
    state = _state()
    entry = state.get(project)
    if not entry:
        raise CliError(f"Nothing was configured for project {project} on this machine.")
    _undo(entry["files"])
    revoked = credentials.forget(api, Path(entry["cache"]), project) if entry.get("cache") else []
    credentials.revoke(api, project, entry["access_key_id"])
    del state[project]
    _save_state(state)
    ids = dict.fromkeys([entry["access_key_id"], *revoked])
    return [f"{r['path']} [{r['section']}] restored" for r in entry["files"]] + [f"key {i} revoked" for i in ids]
