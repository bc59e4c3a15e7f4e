"""Thin Celery tasks: the work is in the services."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from usage.services import usage_prune_run


@shared_task
def usage_prune_task() -> dict[str, int]:
    return usage_prune_run(now=timezone.now(), keep=settings.LATCHKEY_USAGE_KEEP)
