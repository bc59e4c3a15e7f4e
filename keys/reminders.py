"""E-mail reminders before a key expires (LATCHKEY_REMINDER_HOURS, default 24 h and 1 h)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from keys.models import AccessKey
from portal.mail import mail

log = logging.getLogger(__name__)


def _due_threshold(key: AccessKey, now: datetime) -> int | None:
    """The smallest threshold the key has crossed, among those shorter than its lifetime
    (a 2-hour key gets no "24 hours left" mail the moment it is made)."""
    remaining = key.expires_at - now
    lifetime = key.expires_at - (key.last_extended_at or key.created_at)
    crossed = [hours for hours in settings.LATCHKEY_REMINDER_HOURS if remaining <= timedelta(hours=hours) < lifetime]
    return min(crossed) if crossed else None


def _message(key: AccessKey, hours: int) -> tuple[str, str]:
    link = settings.LATCHKEY_BASE_URL.rstrip("/") + reverse("keys:detail", args=[key.project.number, key.access_key_id])
    expires = timezone.localtime(key.expires_at).strftime("%Y-%m-%d %H:%M %Z")
    subject = f"Your S3 key {key.access_key_id} expires in less than {hours} hour{'s' if hours != 1 else ''}"
    body = (
        f"Your key \u201c{key.description}\u201d ({key.access_key_id}) in project {key.project.number} "
        f"expires at {expires}.\n\n"
        f"To keep using it, log in and extend it:\n{link}\n\n"
        "If you no longer need the key, you can ignore this message; it stops working at that time.\n"
    )
    return subject, body


def keys_send_reminders(*, now: datetime | None = None) -> dict[str, int]:
    """Send each due reminder once. The reminder is claimed with a conditional update before
    the mail goes out, so two concurrent runs cannot both send it; a failed send releases it."""
    now = now or timezone.now()
    if not settings.LATCHKEY_REMINDER_HOURS:
        return {"sent": 0, "failed": 0}
    horizon = now + timedelta(hours=max(settings.LATCHKEY_REMINDER_HOURS))
    sent = failed = 0
    candidates = AccessKey.objects.select_related("owner", "project").filter(
        status=AccessKey.Status.ACTIVE, expires_at__gt=now, expires_at__lte=horizon
    )
    for key in candidates:
        hours = _due_threshold(key, now)
        if hours is None or (key.reminded_hours is not None and key.reminded_hours <= hours):
            continue
        if not key.owner.email:
            continue
        claimed = AccessKey.objects.filter(pk=key.pk, reminded_hours=key.reminded_hours, expires_at=key.expires_at)
        if not claimed.update(reminded_hours=hours):
            continue  # another run sent it, or the key was extended meanwhile
        subject, body = _message(key, hours)
        if not mail(subject, body, [key.owner.email]):
            AccessKey.objects.filter(pk=key.pk, reminded_hours=hours).update(reminded_hours=key.reminded_hours)
            log.warning("reminder for key %s not sent; will retry", key.access_key_id)
            failed += 1
            continue
        sent += 1
    return {"sent": sent, "failed": failed}
