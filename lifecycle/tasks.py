"""Thin Celery tasks for the cross-app flows."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from heartbeats.services import heartbeat_completed
from lifecycle.memberships import memberships_apply_stale, memberships_finish_ending
from lifecycle.recheck import RECHECK, memberships_recheck


@shared_task
def memberships_recheck_task() -> dict[str, Any]:
    summary = memberships_recheck()
    heartbeat_completed(name=RECHECK, summary=summary)  # read by /metrics
    return summary


@shared_task
def memberships_finish_ending_task() -> dict[str, int]:
    return memberships_finish_ending()


@shared_task
def memberships_apply_stale_task() -> dict[str, int]:
    return memberships_apply_stale()
