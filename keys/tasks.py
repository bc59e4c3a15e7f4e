"""Thin Celery tasks: ids in, a summary out; the work is in the services."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from celery.signals import after_task_publish, beat_init, worker_ready
from django.conf import settings
from django.db import close_old_connections

from heartbeats.services import heartbeat_completed, heartbeat_queued
from keys.expiry import keys_expire_due, keys_sweep
from keys.reconcile import keys_reconcile
from keys.reminders import keys_send_reminders
from keys.selectors import RECONCILE, SWEEP

log = logging.getLogger(__name__)


@shared_task
def key_expire_task(key_id: int) -> int:
    # Queued for the key's exact expiry; after an extension it finds the key not yet due.
    return keys_expire_due(key_id=key_id)


@shared_task
def keys_sweep_task() -> dict[str, int]:
    summary = keys_sweep()
    # Written only after a sweep that ran to its end: the web reads it to tell whether expiry is
    # being enforced (keys.selectors.expiry_enforcement).
    heartbeat_completed(name=SWEEP, summary=summary)
    return summary


@shared_task
def keys_send_reminders_task() -> dict[str, int]:
    return keys_send_reminders()


@shared_task
def keys_reconcile_task() -> dict[str, int]:
    summary = keys_reconcile(remove_unknown=settings.LATCHKEY_RECONCILE_REMOVE_UNKNOWN).summary()
    heartbeat_completed(name=RECONCILE, summary=summary)  # read by the operators' overview
    return summary


@after_task_publish.connect
def _sweep_sent(sender: str | None = None, **_: Any) -> None:
    """Beat's half of the heartbeat: a sweep reached the broker. With the worker's half it tells
    a dead worker (sent, never completed) from a dead beat (not sent). Celery logs and swallows
    an exception raised here, so a database outage never stops beat from sending."""
    if sender == keys_sweep_task.name:
        close_old_connections()  # beat lives for months; its connection may have been cut
        heartbeat_queued(name=SWEEP)


@beat_init.connect
def _sweep_at_start(**_: Any) -> None:
    # Beat's first interval entry is due one interval after start; sweep at once instead, so
    # keys that ended while beat was down are removed now and the heartbeat shows up in seconds.
    log.info("beat started: sending the expiry sweep now")
    keys_sweep_task.delay()


@worker_ready.connect
def _sweep_when_ready(**_: Any) -> None:
    # A worker that starts (a deploy, or its supervisor restarting it after a crash or a kill)
    # sweeps at once, so keys that fell due meanwhile are removed now rather than at beat's next
    # tick, up to a sweep interval later (make soak saw keys accepted 75-86 s after expiry so).
    log.info("worker ready: sending the expiry sweep now")
    keys_sweep_task.delay()
