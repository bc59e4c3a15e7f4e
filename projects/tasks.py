"""Thin Celery tasks for projects; the work is in the services."""

from __future__ import annotations

from celery import shared_task

from projects.quota import projects_refresh_usage
from projects.services import memberships_apply_stale, memberships_finish_ending


@shared_task
def memberships_finish_ending_task() -> dict[str, int]:
    return memberships_finish_ending()


@shared_task
def projects_refresh_usage_task() -> dict[str, int]:
    return projects_refresh_usage()


@shared_task
def memberships_apply_stale_task() -> dict[str, int]:
    return memberships_apply_stale()
