"""INI files shared with other tools (rclone.conf, ~/.s3cfg, ~/.aws/*): Latchkey changes only its
own section. The rest of the file stays byte for byte as it was, comments included; a file that
does not parse is refused, never rewritten; writes are atomic (temporary file, then rename), so
a file is never left half-written."""

from __future__ import annotations

import configparser
import os
import re
import tempfile
from pathlib import Path

HEADER = re.compile(r"^\s*\[([^\]]+)\]\s*$")


class ConfigFileError(Exception):
    pass


def read(path: Path) -> str:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise ConfigFileError(f"{path}: cannot read it ({exc.strerror})") from None
    parser = configparser.RawConfigParser(strict=False)
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as exc:
        first = str(exc).splitlines()[0]
        raise ConfigFileError(f"{path} is not a valid configuration file ({first}); it was left as it is") from None
    return text


def _blocks(text: str) -> list[tuple[str | None, str]]:
    """(section name or None for the preamble, its text including the header line)."""
    blocks: list[tuple[str | None, list[str]]] = [(None, [])]
    for line in text.splitlines(keepends=True):
        match = HEADER.match(line)
        if match:
            blocks.append((match.group(1).strip(), [line]))
        else:
            blocks[-1][1].append(line)
    return [(name, "".join(lines)) for name, lines in blocks]


def section(text: str, name: str) -> str | None:
    for block_name, block in _blocks(text):
        if block_name == name:
            return block
    return None


def splice(text: str, name: str, new: str | None) -> str:
    """``text`` with section ``name`` replaced by ``new`` (a whole section, header included),
    appended if absent, removed if ``new`` is None."""
    out, done = [], False
    for block_name, block in _blocks(text):
        if block_name == name and not done:
            if new is not None:
                out.append(new if new.endswith("\n") else new + "\n")
            done = True
        elif block_name == name:
            continue  # a duplicate of our section: drop it
        else:
            out.append(block)
    if not done and new is not None:
        joined = "".join(out)
        if joined and not joined.endswith("\n\n"):
            out.append("\n" if joined.endswith("\n") else "\n\n")
        out.append(new if new.endswith("\n") else new + "\n")
    return "".join(out)


def _replace_with(path: Path, data: bytes) -> None:
    """``path`` becomes a new 0600 file holding ``data``. Renamed into place, so whatever stood
    there (a symlink someone planted, pointing anywhere) is replaced, never followed."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
        raise


def write(path: Path, text: str, *, backup: bool) -> Path | None:
    """Write atomically with mode 0600; keep ``<file>.latchkey-backup`` of a file that existed.
    Returns the backup's path."""
    saved = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if backup and path.exists():
            saved = path.with_name(path.name + ".latchkey-backup")
            _replace_with(saved, path.read_bytes())
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as exc:
        raise ConfigFileError(f"{path.parent}: cannot write there ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ConfigFileError(f"{path}: cannot write it ({exc.strerror})") from None
    return saved
