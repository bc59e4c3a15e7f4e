"""Reads about keys that pages, the API, health and metrics share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet, TextField
from django.db.models.functions import Cast, Coalesce, Length
from django.utils import timezone

from accounts.models import User
from heartbeats.models import Heartbeat
from keys.expiry import PENDING_GRACE
from keys.models import AccessKey, KeyEvent
from keys.timeline import TimelineKey
from projects.models import MANAGING, Membership

SWEEP = "keys-sweep"  # the heartbeat of keys.tasks.keys_sweep_task
RECONCILE = "keys-reconcile"  # the heartbeat of keys.tasks.keys_reconcile_task
LAG_WINDOW = timedelta(hours=24)  # revocation_lag covers the keys that ended within it
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


@dataclass(frozen=True)
class RevocationLag:
    """Delay from expiry to revocation of the keys that expired in the last 24 h: to S3's refusal
    at every endpoint where LATCHKEY_VERIFY_REVOCATION proved it, else to the removal from Ceph."""

    keys: int
    median: float  # seconds; 0 when no key expired
    p99: float
    max: float

    QUANTILES = (0.5, 0.99, 1.0)

    def quantiles(self) -> dict[float, float]:
        return dict(zip(self.QUANTILES, (self.median, self.p99, self.max), strict=True))


def revocation_lag(*, now: datetime | None = None) -> RevocationLag:
    """One query; read by /metrics (latchkey_revocation_lag_seconds) and the operators' overview."""
    since = (now or timezone.now()) - LAG_WINDOW
    delays = sorted(
        d.total_seconds()
        for d in AccessKey.objects.filter(status=AccessKey.Status.EXPIRED, ended_at__gte=since)
        .annotate(
            d=ExpressionWrapper(Coalesce("refused_at", "ended_at") - F("expires_at"), output_field=DurationField())
        )
        .values_list("d", flat=True)
        if d is not None
    )
    if not delays:
        return RevocationLag(keys=0, median=0.0, p99=0.0, max=0.0)
    median, p99, top = (delays[min(len(delays) - 1, int(q * len(delays)))] for q in RevocationLag.QUANTILES)
    return RevocationLag(keys=len(delays), median=median, p99=p99, max=top)


def keys_ending_between(start: datetime, end: datetime) -> QuerySet[AccessKey]:
    """Live keys whose expiry falls in [start, end), soonest first, with owner and project."""
    return (
        AccessKey.objects.filter(status=AccessKey.Status.ACTIVE, expires_at__gte=start, expires_at__lt=end)
        .select_related("owner", "project")
        .order_by("expires_at", "pk")
    )


def keys_overdue(now: datetime) -> QuerySet[AccessKey]:
    """Keys past their expiry that Ceph still holds: the sweep has not removed them yet (Ceph
    down, or S3 not yet seen refusing them)."""
    return AccessKey.objects.filter(status=AccessKey.Status.ACTIVE, expires_at__lte=now)


def keys_abandoned(now: datetime) -> QuerySet[AccessKey]:
    """Keys whose creation never completed, older than the grace the sweep gives them: it
    removes them from Ceph (if they got there) and deletes the row."""
    return AccessKey.objects.filter(status=AccessKey.Status.PENDING, created_at__lte=now - PENDING_GRACE)


def keys_rights_near_limit(limit_bytes: int) -> QuerySet[AccessKey]:
    """Live keys that carry their own rights (RGW accounts) whose rights take half or more of
    what their policy may hold, largest first: a few more restricted buckets or grants and the
    storage service refuses to write them (storage.accounts.POLICY_MAX_BYTES)."""
    size = Length(Cast("rights", output_field=TextField()))
    return (
        AccessKey.objects.filter(status__in=(AccessKey.Status.ACTIVE, AccessKey.Status.PENDING), rights__isnull=False)
        .annotate(rights_bytes=size)
        .filter(rights_bytes__gte=limit_bytes // 2)
        .select_related("project", "owner")
        .order_by("-rights_bytes", "pk")
    )
