"""Thin Celery tasks: ids in, a summary out; the work is in the services."""

from __future__ import annotations

from celery import shared_task

from buckets.grants import grants_expire
from buckets.inventory import projects_refresh_usage
from buckets.key_rights import keys_rights_sync_all
from buckets.selectors import POLICIES_CHECK, USAGE_REFRESH
from buckets.sync import policies_check, policies_sync_dirty
from heartbeats.services import heartbeat_completed
from projects.models import Project


@shared_task
def policies_sync_dirty_task(project_id: int | None = None) -> dict[str, int]:
    project = Project.objects.filter(pk=project_id).first() if project_id else None
    return policies_sync_dirty(project=project)


@shared_task
def keys_rights_sync_task() -> dict[str, int]:
    return keys_rights_sync_all()


@shared_task
def grants_expire_task() -> dict[str, int]:
    return grants_expire()


@shared_task
def policies_check_task() -> dict[str, int]:
    # Also writes buckets left dirty by a failed or lost sync task.
    summary = policies_check()
    heartbeat_completed(name=POLICIES_CHECK, summary=summary)  # read by the operators' overview
    return summary


@shared_task
def projects_refresh_usage_task() -> dict[str, int]:
    summary = projects_refresh_usage()
    heartbeat_completed(name=USAGE_REFRESH, summary=summary)  # read by the operators' overview
    return summary
