"""Thin Celery tasks: ids in, a summary out; the work is in the services."""

from __future__ import annotations

from celery import shared_task

from buckets.grants import grants_expire
from buckets.inventory import projects_refresh_usage
from buckets.sync import policies_check, policies_sync_dirty
from projects.models import Project


@shared_task
def policies_sync_dirty_task(project_id: int | None = None) -> dict[str, int]:
    project = Project.objects.filter(pk=project_id).first() if project_id else None
    return policies_sync_dirty(project=project)


@shared_task
def grants_expire_task() -> dict[str, int]:
    return grants_expire()


@shared_task
def policies_check_task() -> dict[str, int]:
    # Also writes buckets left dirty by a failed or lost sync task.
    return policies_check()


@shared_task
def projects_refresh_usage_task() -> dict[str, int]:
    return projects_refresh_usage()
