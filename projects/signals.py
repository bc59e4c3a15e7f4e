"""Memberships follow the identity provider's entitlement claim at every login."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from allauth.account.signals import user_logged_in
from allauth.socialaccount.signals import social_account_added
from django.conf import settings
from django.dispatch import receiver

from projects.entitlements import claim_values, merged_claims, trusted_entitlements
from projects.services import memberships_sync_from_claims

log = logging.getLogger(__name__)


def memberships_sync_from_idp(*, user: Any, provider_id: str, claims: Mapping[str, Any]) -> dict[str, int]:
    """Memberships from what ``provider_id`` says of ``user`` now (a login's claims, or the
    userinfo answer behind an API token), counting only what that provider is trusted for."""
    asserted, ignored = trusted_entitlements(
        claim_values(claims, settings.LATCHKEY_ENTITLEMENT_CLAIM),
        settings.LATCHKEY_ENTITLEMENT_PATTERN,
        settings.LATCHKEY_PROVIDER_TRUST.get(provider_id),
    )
    if ignored:  # once per sync; values are the provider's text: repr() and cut, never raw
        sample = ", ".join(repr(v[:120]) for v in ignored[:5])
        log.warning("user %s: %s asserted %d entitlements outside what it is trusted for, ignored: %s",
                    user.pk, provider_id, len(ignored), sample)  # fmt: skip
    summary = memberships_sync_from_claims(user=user, provider_id=provider_id, asserted=asserted)
    log.info("user %s: memberships from %s %s", user.pk, provider_id, summary)
    return summary


def _sync(sociallogin: Any) -> None:
    account = sociallogin.account
    claims = merged_claims(account.extra_data or {})
    memberships_sync_from_idp(user=sociallogin.user, provider_id=account.provider, claims=claims)


@receiver(user_logged_in)
def sync_memberships_on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    sociallogin = kwargs.get("sociallogin")
    if sociallogin is not None:
        _sync(sociallogin)


@receiver(social_account_added)
def sync_memberships_on_connect(sender: Any, request: Any, sociallogin: Any, **kwargs: Any) -> None:
    _sync(sociallogin)
