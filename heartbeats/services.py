"""Recording heartbeats. Each write is one upsert of one row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from heartbeats.models import Heartbeat


def heartbeat_queued(*, name: str, now: datetime | None = None) -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"queued_at": now or timezone.now()})


def heartbeat_completed(*, name: str, summary: dict[str, Any], now: datetime | None = None) -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"completed_at": now or timezone.now(), "summary": summary})
