"""Reads about keys that pages, the API, health and metrics share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from heartbeats.models import Heartbeat

SWEEP = "keys-sweep"  # the heartbeat of keys.tasks.keys_sweep_task
STALE_AFTER_SWEEPS = 3  # a late sweep or two is a busy worker; three missed ones are an outage


@dataclass(frozen=True)
class ExpiryEnforcement:
    """Whether keys are being removed from Ceph at their expiry right now, as far as the web can
    tell: the expiry sweep has completed within the last few sweep intervals."""

    enforced: bool
    completed_at: datetime | None  # the last sweep a worker finished
    queued_at: datetime | None  # the last sweep beat sent
    age_seconds: float | None  # since completed_at; None: never
    limit_seconds: float

    @property
    def reason(self) -> str:
        if self.enforced:
            return ""
        if self.completed_at is None:
            return "no expiry sweep has completed yet: the Celery worker or beat is not running"
        if self.queued_at and self.queued_at > self.completed_at:
            return "the Celery worker has not run the expiry sweeps beat sent: the worker is down or stuck"
        return "Celery beat has not sent an expiry sweep: beat is down"


def expiry_enforcement(*, now: datetime | None = None) -> ExpiryEnforcement:
    now = now or timezone.now()
    limit = STALE_AFTER_SWEEPS * settings.LATCHKEY_SWEEP_SECONDS
    beat = Heartbeat.objects.filter(name=SWEEP).first()
    completed = beat.completed_at if beat else None
    age = (now - completed).total_seconds() if completed else None
    enforced = age is not None and age <= limit
    return ExpiryEnforcement(enforced, completed, beat.queued_at if beat else None, age, float(limit))
