"""A key's scope as people ask for it: the member's own access, read-only on the whole project,
or chosen buckets each read or read-write. Its shape is checked here; whether the buckets exist
and the member may reach them is checked against the project in buckets/scoped_keys.py."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings

from keys.models import AccessKey
from portal.errors import Refused

ACCESSES = ("read", "readwrite")
# Wide enough for any bucket radosgw 16 accepts by default, narrow enough that nothing odd (a
# control character, a tenant prefix "T:") reaches a query.
BUCKET_NAME = re.compile(r"^[A-Za-z0-9._-]{1,63}$")


class ScopeError(Refused):
    """A scope that cannot be granted; ``field`` names the input that holds the fault."""

    def __init__(self, message: str, *, field: str = "scope") -> None:
        super().__init__(message, field=field)


@dataclass(frozen=True)
class KeyScope:
    kind: str = AccessKey.Scope.MEMBER
    buckets: tuple[tuple[str, str], ...] = ()  # (bucket name, "read" | "readwrite"), sorted

    @property
    def scoped(self) -> bool:
        """Whether the key is its own RGW user (every scope but the member's own access)."""
        return self.kind != AccessKey.Scope.MEMBER

    @property
    def writes(self) -> bool:
        return self.kind == AccessKey.Scope.MEMBER or any(access == "readwrite" for _, access in self.buckets)

    @property
    def label(self) -> str:
        if self.kind == AccessKey.Scope.BUCKETS:
            return ",".join(f"{name}:{access}" for name, access in self.buckets)
        return str(self.kind)


MEMBER_SCOPE = KeyScope()
READ_ONLY_SCOPE = KeyScope(kind=AccessKey.Scope.READ_ONLY)


def scope_from(kind: str, buckets: list[tuple[str, str]] | None = None) -> KeyScope:
    """A scope of a valid shape, or ScopeError naming what is wrong."""
    buckets = buckets or []
    if kind not in AccessKey.Scope.values:
        raise ScopeError(f"Unknown scope {kind[:40]!r}: use one of {', '.join(AccessKey.Scope.values)}.")
    if kind != AccessKey.Scope.BUCKETS:
        if buckets:
            raise ScopeError("Buckets are chosen only with the 'buckets' scope.")
        return KeyScope(kind=kind)
    if not buckets:
        raise ScopeError("Choose at least one bucket.")
    limit = settings.LATCHKEY_KEY_MAX_BUCKETS
    if len(buckets) > limit:
        raise ScopeError(f"A key can be limited to at most {limit} buckets.")
    seen: dict[str, str] = {}
    for name, access in buckets:
        if not BUCKET_NAME.match(name):
            raise ScopeError(
                f"{name[:70]!r} is not a bucket name: 1 to 63 letters, digits, dots, hyphens or underscores."
            )
        if access not in ACCESSES:
            raise ScopeError(f"The access to bucket {name!r} must be 'read' or 'readwrite'.")
        if name in seen:
            raise ScopeError(f"Bucket {name!r} is named twice.")
        seen[name] = access
    return KeyScope(kind=kind, buckets=tuple(sorted(seen.items())))
