"""Flows about a person that reach into projects and keys."""

from __future__ import annotations

from accounts.models import User
from keys.models import AccessKey
from keys.services import LIVE, keys_revoke


def user_revoke_keys_if_inactive(*, user: User) -> int:
    """A deactivated user's keys stop working at once, in every project."""
    if user.is_active:
        return 0
    return keys_revoke(keys=list(AccessKey.objects.filter(owner=user, status__in=LIVE)), reason="user deactivated")
