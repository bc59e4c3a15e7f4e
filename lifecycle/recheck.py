"""Memberships re-checked without a browser: every account that holds a live key or a CLI
session is asked about at its upstream provider, with the refresh token that provider gave at
the last login (offline access), every ``LATCHKEY_MEMBERSHIP_RECHECK_SECONDS``.

- The provider refreshes the grant: its userinfo answer re-syncs that provider's memberships,
  as a login would (an entitlement that has gone ends that membership and revokes its keys).
- The provider refuses the grant (account disabled or removed there): that provider's
  memberships end, their keys are revoked, every session of the person ends (CLI and browser),
  and the refusal is recorded until the person logs in through that provider again. A person
  with no other standing identity loses every membership, whatever its source (``_refuse``).
- The provider is unreachable or answers nonsense: nothing changes; the answer is recorded and
  tried again next time. After a few in a row, the rest of that provider's accounts wait for
  the next run, so a dead provider costs one timeout per run, not one per account.
- No refresh token (the provider gives none, or it was sealed with a key no longer set):
  counted per provider and reported to operators (/metrics, the worker log, docs/operators.md).
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from datetime import datetime

from allauth.idp.oidc.models import Token
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts import upstream
from accounts.models import UpstreamGrant
from accounts.services import upstream_grant_refused, user_end_cli_sessions, user_end_sessions
from keys.models import AccessKey
from keys.services import LIVE
from lifecycle.memberships import memberships_end_all, memberships_sync_from_claims, memberships_sync_from_idp
from portal.sealing import Unreadable, seal, unseal

log = logging.getLogger(__name__)
RECHECK = "memberships-recheck"
OK, REFUSED, UNAVAILABLE, NO_REFRESH_TOKEN = "ok", "refused", "unavailable", "no_refresh_token"
UNCONFIGURED, BUSY, SKIPPED, ERROR = "unconfigured", "busy", "skipped", "error"
OUTCOMES = (OK, REFUSED, UNAVAILABLE, NO_REFRESH_TOKEN, UNCONFIGURED, BUSY, SKIPPED, ERROR)
CIRCUIT = 3  # unavailable answers in a row after which a provider's remaining accounts wait


def accounts_to_recheck() -> QuerySet[SocialAccount]:
    """The upstream identities of active people who hold a live key or a CLI session."""
    holders = AccessKey.objects.filter(status__in=LIVE).values("owner")
    sessions = Token.objects.valid().filter(user__isnull=False).values("user")
    return (
        SocialAccount.objects.filter(Q(user__in=holders) | Q(user__in=sessions), user__is_active=True)
        .select_related("user")
        .order_by("pk")
    )


def account_recheck(*, account: SocialAccount, now: datetime | None = None) -> str:
    """Ask ``account``'s provider about it now; one of OUTCOMES."""
    now = now or timezone.now()
    app = upstream.provider_app(account.provider)
    if app is None:  # the operator removed the provider: it asserts nothing any more
        _withdraw(account, f"{account.provider} is no longer configured")
        return UNCONFIGURED
    try:
        with transaction.atomic():
            # Held across the refresh: two workers must not both spend a rotating refresh token.
            grant = UpstreamGrant.objects.select_for_update(skip_locked=True).filter(account=account).first()
            if grant is None:
                return BUSY if UpstreamGrant.objects.filter(account=account).exists() else NO_REFRESH_TOKEN
            if grant.outcome == UpstreamGrant.Outcome.REFUSED:
                return REFUSED  # already withdrawn; nothing to ask until its person logs in again
            refreshed = upstream.refresh(app, unseal(grant.sealed_refresh_token))
            if refreshed.refresh_token:
                grant.sealed_refresh_token = seal(refreshed.refresh_token)
            grant.checked_at, grant.outcome, grant.detail = now, UpstreamGrant.Outcome.OK, ""
            grant.save(update_fields=["sealed_refresh_token", "checked_at", "outcome", "detail"])
        claims = upstream.userinfo(app, refreshed.access_token)
    except Unreadable:
        log.warning(
            "user %s: the %s refresh token cannot be unsealed (LATCHKEY_TOKEN_KEYS changed?)",
            account.user_id,
            account.provider,
        )
        return NO_REFRESH_TOKEN
    except upstream.GrantRefused:
        _refuse(account, f"{account.provider} refused the stored grant (account disabled or removed there)")
        return REFUSED
    except upstream.ProviderUnavailable as exc:
        UpstreamGrant.objects.filter(account=account).update(
            checked_at=now, outcome=UpstreamGrant.Outcome.UNAVAILABLE, detail=str(exc)[:200]
        )
        log.warning("user %s: %s re-check not possible now: %s", account.user_id, account.provider, exc)
        return UNAVAILABLE
    if claims.get("sub") != account.uid:
        log.warning("user %s: %s userinfo names another subject; not believed", account.user_id, account.provider)
        return UNAVAILABLE
    if settings.LATCHKEY_ENTITLEMENT_CLAIM in claims:  # silence (no entitlement scope) changes nothing
        memberships_sync_from_idp(user=account.user, provider_id=account.provider, claims=claims)
    return OK


def _withdraw(account: SocialAccount, why: str) -> None:
    """The provider is gone from the configuration: what it asserted ends."""
    UpstreamGrant.objects.filter(account=account).delete()
    ended = memberships_sync_from_claims(user=account.user, provider_id=account.provider, asserted={})["ended"]
    sessions = user_end_cli_sessions(user=account.user)
    log.warning(
        "user %s: %s: %d memberships ended (keys revoked), %d CLI tokens ended", account.user_id, why, ended, sessions
    )


def _refuse(account: SocialAccount, why: str) -> None:
    """The provider refused the person. What it asserted ends, the refusal is kept (so no token
    of theirs is believed until they log in through it again), and every session of the person
    ends, browser and CLI: the session may have come through this identity.

    A person with no other identity that still stands has left: every membership ends,
    whatever its source (an invitation, a join request, the admin, the allocation import),
    since nobody vouches for them any more. A person with another identity keeps the
    memberships that did not come from this provider, and logs in again through the other."""
    upstream_grant_refused(account=account, why=why)
    user = account.user
    ended = memberships_sync_from_claims(user=user, provider_id=account.provider, asserted={})["ended"]
    standing = (
        SocialAccount.objects.filter(user=user)
        .exclude(pk=account.pk)
        .exclude(latchkey_grant__outcome=UpstreamGrant.Outcome.REFUSED)
    )
    if not standing.exists():
        ended += memberships_end_all(user=user)
    sessions = user_end_sessions(user=user)
    log.warning(
        "user %s: %s: %d memberships ended (keys revoked), %d CLI tokens and every browser session ended",
        account.user_id,
        why,
        ended,
        sessions,
    )


def memberships_recheck(*, now: datetime | None = None) -> dict[str, dict[str, int]]:
    """Every account due, one at a time; provider id → outcome → count."""
    summary: defaultdict[str, Counter[str]] = defaultdict(Counter)
    unavailable_in_a_row: Counter[str] = Counter()
    for account in accounts_to_recheck().iterator():
        provider = account.provider
        if unavailable_in_a_row[provider] >= CIRCUIT:
            summary[provider][SKIPPED] += 1
            continue
        try:
            outcome = account_recheck(account=account, now=now)
        except Exception:  # one account's surprise must not stop everyone else's re-check
            log.exception("user %s: %s re-check failed", account.user_id, provider)
            outcome = ERROR
        unavailable_in_a_row[provider] = unavailable_in_a_row[provider] + 1 if outcome == UNAVAILABLE else 0
        summary[provider][outcome] += 1
    for provider, counts in summary.items():
        if counts[NO_REFRESH_TOKEN]:
            log.warning(
                "%s: %d accounts with live keys or CLI sessions cannot be re-checked: no refresh token "
                "(see docs/operators.md)",
                provider,
                counts[NO_REFRESH_TOKEN],
            )
    return {provider: dict(counts) for provider, counts in summary.items()}
