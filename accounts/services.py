from __future__ import annotations

import re
import secrets
from datetime import datetime

from allauth.idp.oidc.models import Token
from allauth.socialaccount.models import SocialAccount
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import UpstreamGrant, User
from portal.sealing import Unreadable, reseal, seal

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


def upstream_grant_store(*, account: SocialAccount, refresh_token: str, now: datetime | None = None) -> UpstreamGrant:
    """Keep (sealed) the refresh token ``account``'s provider gave, replacing the one before."""
    grant, _ = UpstreamGrant.objects.update_or_create(
        account=account,
        defaults={
            "sealed_refresh_token": seal(refresh_token),
            "stored_at": now or timezone.now(),
            "outcome": "",
            "detail": "",
        },
    )
    return grant


def user_end_cli_sessions(*, user: User) -> int:
    """Every token Latchkey's own provider issued to ``user`` (the CLI's access and refresh
    tokens) stops working: the next ``latchkey`` call asks for a new login."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return int(deleted)


def user_end_sessions(*, user: User, now: datetime | None = None) -> int:
    """Every session of ``user`` ends: the CLI's tokens at once, browser sessions at their next
    request (accounts/middleware.py). Returns how many CLI tokens ended."""
    User.objects.filter(pk=user.pk).update(sessions_ended_at=now or timezone.now())
    return user_end_cli_sessions(user=user)


def upstream_grant_refused(*, account: SocialAccount, why: str, now: datetime | None = None) -> None:
    """Record that ``account``'s provider refused it; its refresh token is dropped."""
    now = now or timezone.now()
    UpstreamGrant.objects.update_or_create(
        account=account,
        defaults={
            "sealed_refresh_token": "",
            "stored_at": now,
            "checked_at": now,
            "outcome": UpstreamGrant.Outcome.REFUSED,
            "detail": why[:200],
        },
    )


def upstream_refused(account: SocialAccount) -> bool:
    return UpstreamGrant.objects.filter(account=account, outcome=UpstreamGrant.Outcome.REFUSED).exists()


def upstream_login_clears_refusal(*, account: SocialAccount) -> None:
    """A login through the provider proves it accepts the person again."""
    UpstreamGrant.objects.filter(account=account, outcome=UpstreamGrant.Outcome.REFUSED).delete()


def upstream_grants_reseal() -> tuple[int, int]:
    """(resealed, unreadable): every stored grant sealed again with the first configured key."""
    resealed = unreadable = 0
    for grant in UpstreamGrant.objects.order_by("pk").iterator():
        try:
            sealed = reseal(grant.sealed_refresh_token)
        except Unreadable:
            unreadable += 1
            continue
        UpstreamGrant.objects.filter(pk=grant.pk, sealed_refresh_token=grant.sealed_refresh_token).update(
            sealed_refresh_token=sealed
        )
        resealed += 1
    return resealed, unreadable
