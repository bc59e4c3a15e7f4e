"""Signal receivers whose work crosses apps."""

from __future__ import annotations

from typing import Any

from allauth.account.signals import user_logged_in
from allauth.socialaccount.signals import social_account_added
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.claims import merged_claims
from accounts.models import User
from buckets.scoped_keys import scoped_key_gone
from buckets.sync import policies_sync_soon
from keys.signals import scoped_key_gone as key_gone_signal
from lifecycle.memberships import memberships_sync_from_idp
from lifecycle.users import user_revoke_keys_if_inactive
from projects.models import Project


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


@receiver(post_save, sender=User)
def revoke_keys_of_deactivated_user(sender: Any, instance: User, **kwargs: Any) -> None:
    # Operators deactivate people in the Django admin; the keys must not outlive that.
    if not instance.is_active and not kwargs.get("created"):
        user_revoke_keys_if_inactive(user=instance)


@receiver(key_gone_signal)
def rewrite_policies_naming_a_gone_key(
    sender: Any, key_id: int, project_id: int, scope: str, owner_id: int, **kwargs: Any
) -> None:
    # Ceph has already refused the key (its user is gone); this removes the statements that
    # still name it, so nothing of it stays in Ceph.
    for project in Project.objects.filter(
        pk__in=scoped_key_gone(key_id=key_id, project_id=project_id, scope=scope, owner_id=owner_id)
    ):
        policies_sync_soon(project)
