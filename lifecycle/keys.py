"""Issuing a key: the member's subuser first (with bucket policies that deny them where they
must), then the key."""

from __future__ import annotations

from datetime import datetime

from keys.services import IssuedKey, key_check_hours, key_issue
from lifecycle.memberships import membership_provision
from projects.models import Membership


def key_create(
    *, membership: Membership, hours: int, description: str, ip: str | None = None, now: datetime | None = None
) -> IssuedKey:
    key_check_hours(membership.project, hours)  # before anything reaches Ceph
    membership_provision(membership=membership)
    return key_issue(membership=membership, hours=hours, description=description, ip=ip, now=now)
