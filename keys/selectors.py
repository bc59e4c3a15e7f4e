"""Reads about keys that pages, the API, health and metrics share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from heartbeats.models import Heartbeat
from keys.models import AccessKey, KeyEvent
from keys.timeline import TimelineKey
from projects.models import MANAGING, Membership

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


def memberships_of(user: User) -> QuerySet[Membership]:
    """The user's active memberships with their own active key count, in one query."""
    return (
        Membership.objects.filter(user=user, status=Membership.Status.ACTIVE)
        .select_related("project")
        .annotate(
            active_keys=Count(
                "project__access_keys",
                filter=Q(project__access_keys__owner=user, project__access_keys__status=AccessKey.Status.ACTIVE),
            )
        )
        .order_by("project__number")
    )


def keys_of(membership: Membership) -> QuerySet[AccessKey]:
    return AccessKey.objects.filter(
        owner=membership.user, project=membership.project, status=AccessKey.Status.ACTIVE
    ).order_by("expires_at")


def timeline_keys_of(membership: Membership) -> list[TimelineKey]:
    """The live keys on the project page's timeline: the member's own; managers and deputies
    answer for the project's keys and see every member's, each named with its owner."""
    keys = (
        AccessKey.objects.filter(project=membership.project, status=AccessKey.Status.ACTIVE)
        .select_related("owner")
        .order_by("expires_at", "pk")
    )
    if membership.role not in MANAGING:
        keys = keys.filter(owner=membership.user)
    return [
        TimelineKey(
            access_key_id=key.access_key_id,
            owner=key.owner.get_full_name() or key.owner.username,
            description=key.description,
            created_at=key.created_at,
            expires_at=key.expires_at,
        )
        for key in keys
    ]


def events_visible_to(membership: Membership) -> QuerySet[KeyEvent]:
    """The audit rows a member may read: their own keys' events; managers and deputies: all."""
    events = KeyEvent.objects.filter(project=membership.project).select_related("key", "actor", "key__owner")
    if membership.role in MANAGING:
        return events
    return events.filter(key__owner=membership.user)
