from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models

RGW_NAME_RE = r"^[a-z][a-z0-9_]{0,31}$"


class User(AbstractUser):
    # The member's name inside Ceph: the subuser is ``T$T:<rgw_name>`` in every project, and
    # bucket policies name it (``arn:aws:iam::T:user/T:<rgw_name>``), so it is short, readable
    # and never changes, even if the person's upstream username does.
    rgw_name = models.CharField(
        max_length=32,
        unique=True,
        null=True,
        blank=True,
        validators=[RegexValidator(RGW_NAME_RE, "lowercase letters, digits and '_', starting with a letter")],
    )
    # Browser sessions that logged in before this no longer count (their person's IdP refused
    # them; accounts/middleware.py logs them out at their next request).
    sessions_ended_at = models.DateTimeField(null=True, blank=True)


class UpstreamGrant(models.Model):
    """The refresh token an upstream provider gave at a login (offline access), sealed
    (portal/sealing.py): with it Latchkey asks that provider, without the person, whether the
    account still exists and what it asserts now (lifecycle/recheck.py)."""

    class Outcome(models.TextChoices):
        OK = "ok", "Re-checked"
        UNAVAILABLE = "unavailable", "Provider unavailable"
        # The provider refused the grant (the account was disabled or removed there). The row
        # stays, without a token, so the identity counts as refused until its person logs in
        # through that provider again: no API token of theirs is believed meanwhile.
        REFUSED = "refused", "Refused by the provider"

    account = models.OneToOneField(
        "socialaccount.SocialAccount", on_delete=models.CASCADE, related_name="latchkey_grant"
    )
    sealed_refresh_token = models.TextField()
    stored_at = models.DateTimeField()
    checked_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    # What went wrong last, in Latchkey's words (never the provider's answer verbatim).
    detail = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.account.provider} grant of user #{self.account.user_id}"
