"""The operators' overview: what needs attention across the site, read from each app's
selectors and from the metrics Latchkey already keeps. Never a call to Ceph; a fixed number of
queries however many projects, keys or buckets there are (each list is cut at LIST_LIMIT and
counted separately)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from buckets.models import Bucket
from buckets.selectors import POLICIES_CHECK, USAGE_REFRESH, buckets_policy_dirty
from heartbeats.models import Heartbeat
from heartbeats.selectors import heartbeats_named
from keys.models import AccessKey
from keys.selectors import (
    LAG_WINDOW,
    RECONCILE,
    STALE_AFTER_SWEEPS,
    SWEEP,
    ExpiryEnforcement,
    RevocationLag,
    expiry_enforcement,
    keys_abandoned,
    keys_ending_between,
    keys_overdue,
    keys_rights_near_limit,
    revocation_lag,
)
from lifecycle.recheck import ERROR, RECHECK, UNAVAILABLE
from lifecycle.selectors import memberships_ending, memberships_stale, recheck_report_from
from projects.models import USAGE_WARNING_PERCENT, Membership, Project
from projects.selectors import projects_near_bucket_limit, projects_near_quota
from storage import instruments
from storage.accounts import POLICY_MAX_BYTES
from usage.services import PRUNE

LIST_LIMIT = 10
ENDING_WITHIN = timedelta(hours=24)
T = TypeVar("T")


@dataclass(frozen=True)
class Listing(Generic[T]):
    """How many there are, and the first LIST_LIMIT of them."""

    total: int
    shown: list[T]

    @property
    def more(self) -> int:
        return self.total - len(self.shown)


def _listing(rows: QuerySet[Any]) -> Listing[Any]:
    return Listing(total=rows.count(), shown=list(rows[:LIST_LIMIT]))


@dataclass(frozen=True)
class Figure:
    label: str
    value: int
    failure: bool = False


@dataclass(frozen=True)
class JobRun:
    """The last completed run of one periodic job, from its heartbeat."""

    name: str  # the heartbeat's (and the beat entry's) name
    label: str
    interval_seconds: float  # how often beat sends it
    completed_at: datetime | None
    age_seconds: float | None
    figures: list[Figure] = field(default_factory=list)  # what that run found and did, from its summary

    @property
    def late(self) -> bool:
        """Not completed within STALE_AFTER_SWEEPS intervals (as /health/ready judges the sweep)."""
        return self.age_seconds is None or self.age_seconds > STALE_AFTER_SWEEPS * self.interval_seconds

    @property
    def failed(self) -> int:
        return sum(f.value for f in self.figures if f.failure)


def _flat_figures(beat: Heartbeat | None) -> list[Figure]:
    """A summary of counts (keys_sweep, keys_reconcile, policies_check, …): "failed…" are failures."""
    summary = beat.summary if beat is not None and isinstance(beat.summary, dict) else {}
    figures = [
        Figure(label=str(k).replace("_", " "), value=v, failure=str(k).startswith("failed"))
        for k, v in summary.items()
        if isinstance(v, int)
    ]
    return sorted(figures, key=lambda f: (f.failure, f.label))  # the stored JSON keeps no order


def _recheck_figures(beat: Heartbeat | None) -> list[Figure]:
    """The re-check's summary is per provider and outcome; unanswered and crashed checks fail."""
    report = recheck_report_from(beat)
    return [
        Figure(label=f"{provider} {outcome.replace('_', ' ')}", value=n, failure=outcome in (UNAVAILABLE, ERROR))
        for provider, counts in sorted(report.outcomes.items())
        for outcome, n in counts.items()
        if n
    ]


# The periodic jobs that leave a heartbeat: name, label, how their summary reads.
JOBS: tuple[tuple[str, str, Callable[[Heartbeat | None], list[Figure]]], ...] = (
    (SWEEP, "Expiry sweep", _flat_figures),
    (RECONCILE, "Reconcile with Ceph", _flat_figures),
    (POLICIES_CHECK, "Bucket policy drift check", _flat_figures),
    (USAGE_REFRESH, "Usage refresh", _flat_figures),
    (PRUNE, "Usage history pruning", _flat_figures),
    (RECHECK, "Membership re-check", _recheck_figures),
)


def _interval(name: str) -> float:
    schedule = settings.CELERY_BEAT_SCHEDULE[name]["schedule"]
    assert isinstance(schedule, float)  # seconds: portal/settings.py gives every entry so
    return schedule


def job_runs(*, now: datetime) -> list[JobRun]:
    beats = heartbeats_named(name for name, _, _ in JOBS)
    runs = []
    for name, label, figures in JOBS:
        beat = beats.get(name)
        completed = beat.completed_at if beat else None
        runs.append(
            JobRun(
                name=name,
                label=label,
                interval_seconds=_interval(name),
                completed_at=completed,
                age_seconds=(now - completed).total_seconds() if completed else None,
                figures=figures(beat),
            )
        )
    return runs


@dataclass(frozen=True)
class Overview:
    now: datetime
    quota_warning_percent: int
    near_quota: Listing[Project]
    near_bucket_limit: Listing[Project]
    rights_near_limit: Listing[AccessKey]
    rights_limit_bytes: int
    ending_until: datetime
    ending_soon: Listing[AccessKey]
    lag_since: datetime  # revocation_lag covers keys that ended since
    revocation_lag: RevocationLag
    expiry: ExpiryEnforcement
    jobs: list[JobRun]
    stale_memberships: Listing[Membership]
    ending_memberships: Listing[Membership]
    dirty_buckets: Listing[Bucket]
    overdue_keys: int  # ended, still in Ceph
    abandoned_keys: int  # half-created, waiting for the sweep's clean-up
    ceph_calls: list[instruments.OperationCalls]
    ceph_calls_shared: bool  # summed over every process (PROMETHEUS_MULTIPROC_DIR), else this one's

    @property
    def ceph_errors(self) -> int:
        return sum(c.failed for c in self.ceph_calls)

    @property
    def pending_ceph_work(self) -> int:
        return (
            self.stale_memberships.total
            + self.ending_memberships.total
            + self.dirty_buckets.total
            + self.overdue_keys
            + self.abandoned_keys
        )


def operator_overview(*, now: datetime | None = None) -> Overview:
    now = now or timezone.now()
    return Overview(
        now=now,
        quota_warning_percent=USAGE_WARNING_PERCENT,
        near_quota=_listing(projects_near_quota()),
        near_bucket_limit=_listing(projects_near_bucket_limit()),
        rights_near_limit=_listing(keys_rights_near_limit(POLICY_MAX_BYTES)),
        rights_limit_bytes=POLICY_MAX_BYTES,
        ending_until=now + ENDING_WITHIN,
        ending_soon=_listing(keys_ending_between(now, now + ENDING_WITHIN)),
        lag_since=now - LAG_WINDOW,
        revocation_lag=revocation_lag(now=now),
        expiry=expiry_enforcement(now=now),
        jobs=job_runs(now=now),
        stale_memberships=_listing(memberships_stale().order_by("project__number", "pk")),
        ending_memberships=_listing(memberships_ending().order_by("project__number", "pk")),
        dirty_buckets=_listing(buckets_policy_dirty().select_related("project").order_by("project__number", "name")),
        overdue_keys=keys_overdue(now).count(),
        abandoned_keys=keys_abandoned(now).count(),
        ceph_calls=instruments.calls_by_operation(),
        ceph_calls_shared=instruments.shared(),
    )
