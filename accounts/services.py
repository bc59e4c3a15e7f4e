from __future__ import annotations

import re
import secrets

from django.db import IntegrityError, transaction

from accounts.models import User

_NOT_ALLOWED = re.compile(r"[^a-z0-9_]+")


def _base_name(hint: str) -> str:
    base = _NOT_ALLOWED.sub("_", hint.lower()).strip("_")
    if not base or not base[0].isalpha():
        base = f"u_{base}" if base else "user"
    return base[:24]


def user_ensure_rgw_name(*, user: User) -> str:
    """Give ``user`` a unique, permanent RGW subuser name derived from their username."""
    if user.rgw_name:
        return user.rgw_name
    base = _base_name(user.username.split("@")[0])
    candidates = [base] + [f"{base}_{n}" for n in range(2, 10)] + [f"{base}_{secrets.token_hex(3)}"]
    for candidate in candidates:
        try:
            with transaction.atomic():
                updated = User.objects.filter(pk=user.pk, rgw_name__isnull=True).update(rgw_name=candidate)
        except IntegrityError:
            continue  # taken by someone else
        user.refresh_from_db(fields=["rgw_name"])
        if updated or user.rgw_name:
            return user.rgw_name  # type: ignore[return-value]
    raise RuntimeError(f"could not find a free RGW name for user {user.pk}")


def user_revoke_keys_if_inactive(*, user: User) -> int:
    """A deactivated user's keys stop working at once, in every project."""
    from keys.models import AccessKey
    from keys.services import LIVE, keys_revoke

    if user.is_active:
        return 0
    return keys_revoke(keys=list(AccessKey.objects.filter(owner=user, status__in=LIVE)), reason="user deactivated")
