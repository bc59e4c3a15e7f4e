"""Reads about the cross-app flows, for operators."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from heartbeats.models import Heartbeat
from lifecycle.recheck import RECHECK


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
    beat = Heartbeat.objects.filter(name=RECHECK).first()
    if beat is None:
        return RecheckReport(completed_at=None)
    summary = beat.summary if isinstance(beat.summary, dict) else {}
    outcomes = {
        str(provider): {str(k): int(v) for k, v in counts.items() if isinstance(v, int)}
        for provider, counts in summary.items()
        if isinstance(counts, dict)
    }
    return RecheckReport(completed_at=beat.completed_at, outcomes=outcomes)
