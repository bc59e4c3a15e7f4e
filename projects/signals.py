"""Memberships follow the identity provider's entitlement claim at every login."""

from __future__ import annotations

import logging
from typing import Any

from allauth.account.signals import user_logged_in
from allauth.socialaccount.signals import social_account_added
from django.conf import settings
from django.dispatch import receiver

from projects.entitlements import claim_values, merged_claims, trusted_entitlements
from projects.services import memberships_sync_from_claims

log = logging.getLogger(__name__)


def _sync(sociallogin: Any) -> None:
    account = sociallogin.account
    claims = merged_claims(account.extra_data or {})
    asserted, ignored = trusted_entitlements(
        claim_values(claims, settings.LATCHKEY_ENTITLEMENT_CLAIM),
        settings.LATCHKEY_ENTITLEMENT_PATTERN,
        settings.LATCHKEY_PROVIDER_TRUST.get(account.provider),
    )
    if ignored:  # once per login; values are the provider's text: repr() and cut, never raw
        sample = ", ".join(repr(v[:120]) for v in ignored[:5])
        log.warning("user %s: %s asserted %d entitlements outside what it is trusted for, ignored: %s",
                    sociallogin.user.pk, account.provider, len(ignored), sample)  # fmt: skip
    summary = memberships_sync_from_claims(user=sociallogin.user, provider_id=account.provider, asserted=asserted)
    log.info("user %s: memberships from %s %s", sociallogin.user.pk, account.provider, summary)


@receiver(user_logged_in)
def sync_memberships_on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    sociallogin = kwargs.get("sociallogin")
    if sociallogin is not None:
        _sync(sociallogin)


@receiver(social_account_added)
def sync_memberships_on_connect(sender: Any, request: Any, sociallogin: Any, **kwargs: Any) -> None:
    _sync(sociallogin)
