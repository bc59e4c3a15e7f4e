"""Reads about the cross-app flows, for operators."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from heartbeats.models import Heartbeat
from lifecycle.memberships import STALE
from lifecycle.recheck import RECHECK
from projects.models import Membership


@dataclass(frozen=True)
class RecheckReport:
    completed_at: datetime | None
    # provider id → outcome (lifecycle.recheck.OUTCOMES) → accounts, from the last completed run
    outcomes: dict[str, dict[str, int]] = field(default_factory=dict)

    def age_seconds(self, now: datetime | None = None) -> float | None:
        if self.completed_at is None:
            return None
        return ((now or timezone.now()) - self.completed_at).total_seconds()


def recheck_report() -> RecheckReport:
    return recheck_report_from(Heartbeat.objects.filter(name=RECHECK).first())


def recheck_report_from(beat: Heartbeat | None) -> RecheckReport:
    """The report in the re-check's heartbeat row (None: it never ran)."""
    if beat is None:
        return RecheckReport(completed_at=None)
    summary = beat.summary if isinstance(beat.summary, dict) else {}
    outcomes = {
        str(provider): {str(k): int(v) for k, v in counts.items() if isinstance(v, int)}
        for provider, counts in summary.items()
        if isinstance(counts, dict)
    }
    return RecheckReport(completed_at=beat.completed_at, outcomes=outcomes)


def memberships_stale() -> QuerySet[Membership]:
    """Active memberships whose access level Ceph refused (a role change while it was down):
    memberships_apply_stale retries them every minute."""
    return Membership.objects.filter(status=Membership.Status.ACTIVE, rgw_access=STALE).select_related(
        "user", "project"
    )


def memberships_ending() -> QuerySet[Membership]:
    """Memberships ended in Latchkey whose keys or subuser Ceph has not yet let go of:
    memberships_finish_ending retries them."""
    return Membership.objects.filter(status=Membership.Status.ENDING).select_related("user", "project")
