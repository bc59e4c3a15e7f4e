"""Thin Celery tasks: ids in, a summary out; the work is in the services."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from keys.reconcile import keys_reconcile
from keys.reminders import keys_send_reminders
from keys.services import key_expire, keys_sweep


@shared_task
def key_expire_task(key_id: int) -> bool:
    # Queued for the key's exact expiry; after an extension it finds the key not yet due.
    return key_expire(key_id=key_id)


@shared_task
def keys_sweep_task() -> dict[str, int]:
    return keys_sweep()


@shared_task
def keys_send_reminders_task() -> dict[str, int]:
    return keys_send_reminders()


@shared_task
def keys_reconcile_task() -> dict[str, int]:
    return keys_reconcile(remove_unknown=settings.LATCHKEY_RECONCILE_REMOVE_UNKNOWN).summary()
