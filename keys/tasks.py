from __future__ import annotations

from celery import shared_task

from keys.services import keys_expire_overdue
from projects.services import memberships_finish_ending


@shared_task
def keys_expire_overdue_task() -> dict[str, int]:
    return keys_expire_overdue()


@shared_task
def memberships_finish_ending_task() -> dict[str, int]:
    return memberships_finish_ending()
