"""Which Ceph release the test stack runs (scripts/stack.sh writes CEPH_VERSION into the stack's
settings). Tests assert each release's own behaviour by name where releases differ, never skip."""

from __future__ import annotations

import os
from typing import Any

from buckets.policy import EVERY_BUCKET_SIDS


def ceph_version() -> str:
    """The stack's radosgw package version, e.g. ``20.2.4+ds-2``."""
    version = os.environ.get("CEPH_VERSION", "")
    assert version, "CEPH_VERSION is not set: load the test stack's latchkey.env (make test does)"
    return version


def ceph_release() -> int:
    """The major release: 16 (Pacific), 18 (Reef) or 20 (Tentacle)."""
    return int(ceph_version().split(".", 1)[0])


def access_statements(policy: dict[str, Any] | None) -> list[dict[str, Any]]:
    """A bucket policy's statements but those every bucket carries (buckets.policy.every_bucket)."""
    return [s for s in (policy or {}).get("Statement", []) if s.get("Sid") not in EVERY_BUCKET_SIDS]
