"""At each login: remember when and where the user last authenticated at their IdP (for
revealing secrets), and keep the refresh token the IdP gave (for re-checking the account
without them, lifecycle/recheck.py)."""

from __future__ import annotations

import time
from typing import Any

from allauth.account.signals import user_logged_in
from allauth.socialaccount.signals import social_account_added
from django.dispatch import receiver

from accounts.claims import merged_claims
from accounts.services import upstream_grant_store, upstream_login_clears_refusal

AUTH_AT = "latchkey_auth_at"
AUTH_PROVIDER = "latchkey_auth_provider"
LOGIN_AT = "latchkey_login_at"  # when this browser session logged in (accounts/middleware.py)


@receiver(user_logged_in)
def remember_authentication(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    sociallogin = kwargs.get("sociallogin")
    if sociallogin is None or request is None:
        return
    claims = merged_claims(sociallogin.account.extra_data or {})
    # The IdP's own auth_time says when the person last proved who they are there; a login
    # that reused an IdP session long ago is not a fresh authentication.
    # Without auth_time nothing shows when that was, so nothing counts as fresh (fail closed):
    # the re-login Latchkey forces for a reveal asks for max_age=0, which makes it required.
    auth_time = claims.get("auth_time")
    fresh_at = None
    if isinstance(auth_time, int | float) and not isinstance(auth_time, bool):
        fresh_at = int(auth_time)
    request.session[AUTH_AT] = fresh_at
    request.session[AUTH_PROVIDER] = sociallogin.account.provider
    request.session[LOGIN_AT] = time.time()


def _keep_refresh_token(sociallogin: Any) -> None:
    token = getattr(sociallogin, "token", None)
    refresh_token = getattr(token, "token_secret", "") if token is not None else ""
    # A login without one (the provider gives none, or a re-login with prompt=login) leaves
    # the stored one in place: it still stands for the offline access granted before.
    if sociallogin.account.pk:
        upstream_login_clears_refusal(account=sociallogin.account)
    if refresh_token and sociallogin.account.pk:
        upstream_grant_store(account=sociallogin.account, refresh_token=refresh_token)


@receiver(user_logged_in)
def keep_refresh_token_on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if kwargs.get("sociallogin") is not None:
        _keep_refresh_token(kwargs["sociallogin"])


@receiver(social_account_added)
def keep_refresh_token_on_connect(sender: Any, request: Any, sociallogin: Any, **kwargs: Any) -> None:
    _keep_refresh_token(sociallogin)


CLOCK_SKEW_SECONDS = 60  # an IdP's clock a little ahead of ours; further ahead is not believed


def auth_time_fresh(at: object, seconds: int, *, now: float | None = None) -> bool:
    """The one freshness rule, for pages and API: an IdP auth_time that is present, not in the
    future (beyond a small clock skew), and within the last ``seconds``."""
    if not isinstance(at, int) or isinstance(at, bool):
        return False
    current = time.time() if now is None else now
    return at <= current + CLOCK_SKEW_SECONDS and current - at <= seconds


def authenticated_within(request: Any, seconds: int, *, now: float | None = None) -> bool:
    """The login behind this browser session was at most ``seconds`` ago at the IdP."""
    return auth_time_fresh(request.session.get(AUTH_AT), seconds, now=now)
