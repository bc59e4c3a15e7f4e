"""Remember when and where the user last authenticated at their IdP (for revealing secrets)."""

from __future__ import annotations

import time
from typing import Any

from allauth.account.signals import user_logged_in
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.models import User
from accounts.services import user_revoke_keys_if_inactive
from projects.entitlements import merged_claims

AUTH_AT = "latchkey_auth_at"
AUTH_PROVIDER = "latchkey_auth_provider"


@receiver(user_logged_in)
def remember_authentication(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    sociallogin = kwargs.get("sociallogin")
    if sociallogin is None or request is None:
        return
    claims = merged_claims(sociallogin.account.extra_data or {})
    # The IdP's own auth_time says when the person last proved who they are there; a login
    # that reused an IdP session long ago is not a fresh authentication.
    auth_time = claims.get("auth_time")
    request.session[AUTH_AT] = int(auth_time) if isinstance(auth_time, int | float) else int(time.time())
    request.session[AUTH_PROVIDER] = sociallogin.account.provider


def authenticated_within(request: Any, seconds: int, *, now: float | None = None) -> bool:
    at = request.session.get(AUTH_AT)
    return isinstance(at, int) and (now or time.time()) - at <= seconds


@receiver(post_save, sender=User)
def revoke_keys_of_deactivated_user(sender: Any, instance: User, **kwargs: Any) -> None:
    # Operators deactivate people in the Django admin; the keys must not outlive that.
    if not instance.is_active and not kwargs.get("created"):
        user_revoke_keys_if_inactive(user=instance)
