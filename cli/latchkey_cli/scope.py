"""What a key may reach: `--read-only`, `--bucket NAME[:read|:readwrite]` (repeatable), or by
default whatever the member's role reaches. Sent to the API as `scope` on key creation, only
when an option narrows it, so a server that predates scopes keeps working."""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from typing import Any

from latchkey_cli.session import CliError

ACCESS = ("read", "readwrite")
MEMBER: dict[str, Any] = {"kind": "member"}
# Relaxed S3 naming (Ceph may hold older names); the server decides whether the bucket is yours.
BUCKET = re.compile(r"^[A-Za-z0-9._-]{1,63}$")

Scope = dict[str, Any]


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--read-only", action="store_true", help="a key that can only read")
    parser.add_argument(
        "--bucket",
        action="append",
        default=[],
        metavar="NAME[:read|:readwrite]",
        help="a key for this bucket only (repeat for more); access is read unless :readwrite is given "
        "(least privilege). Not with --read-only",
    )


def _bucket(spec: str) -> dict[str, str]:
    name, sep, access = spec.rpartition(":")
    if not sep:
        name, access = spec, "read"
    if not name:
        raise CliError(f"--bucket {spec!r}: name a bucket, e.g. --bucket results:read.")
    if access not in ACCESS:
        raise CliError(f"--bucket {spec!r}: the access is read or readwrite, not {access!r}.")
    if not BUCKET.match(name):
        raise CliError(f"--bucket {spec!r}: a bucket name is 1 to 63 letters, digits, dots, hyphens or underscores.")
    return {"name": name, "access": access}


def parse(*, read_only: bool, buckets: list[str]) -> Scope | None:
    """The scope the options ask for; None when none was given (the member's role access)."""
    if read_only and buckets:
        raise CliError("--read-only and --bucket do not go together: --bucket NAME alone is already read-only.")
    if read_only:
        return {"kind": "read-only"}
    if not buckets:
        return None
    parsed = [_bucket(spec) for spec in buckets]
    names = [b["name"] for b in parsed]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise CliError(f"--bucket {', '.join(twice)} is given more than once: name each bucket once.")
    return {"kind": "buckets", "buckets": parsed}


def key_body(*, description: str, hours: int, scope: Scope | None) -> dict[str, Any]:
    """The body of POST projects/<P>/keys/."""
    body: dict[str, Any] = {"description": description, "hours": hours}
    if scope is not None:
        body["scope"] = scope
    return body


def label(scope: Any) -> str:
    """`member`, `read-only` or `b1:read,b2:readwrite`; a key without a scope (an older server)
    is a member's key."""
    if not isinstance(scope, dict):
        return "member"
    if scope.get("kind") == "buckets":
        return ",".join(f"{b.get('name')}:{b.get('access')}" for b in scope.get("buckets") or [])
    return str(scope.get("kind") or "member")


def scope_id(scope: Scope | None) -> str:
    """A short, stable name for a scope (bucket order does not matter), for cache file names."""
    canonical = dict(scope or MEMBER)
    if "buckets" in canonical:
        canonical["buckets"] = sorted(canonical["buckets"], key=lambda b: b["name"])
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def arguments(scope: Scope | None) -> list[str]:
    """The command line options that ask for ``scope`` again."""
    if scope is None:
        return []
    if scope["kind"] == "read-only":
        return ["--read-only"]
    return [arg for b in scope["buckets"] for arg in ("--bucket", f"{b['name']}:{b['access']}")]
