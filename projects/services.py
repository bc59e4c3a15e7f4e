"""Writes to projects. Each keeps Latchkey's database and Ceph in agreement; flows that also
touch memberships, keys or buckets are in lifecycle/."""

from __future__ import annotations

import logging

from projects.models import Project
from projects.quota import project_apply_quota
from storage import client as storage

log = logging.getLogger(__name__)


def project_create(*, number: str, title: str, tenant: str | None = None) -> Project:
    """Create a project (operators). The tenant defaults to the project number."""
    project = Project(number=number, title=title, tenant=tenant or number)
    project.full_clean()
    project.save()
    return project


def project_provision(*, project: Project) -> None:
    """Make the project's Ceph user ``T$T`` exist. Safe to repeat."""
    if project.rgw_provisioned:
        return
    storage.project_user_ensure(tenant=project.tenant, display_name=f"{project.number} {project.title}"[:120])
    project_apply_quota(project=project)
    Project.objects.filter(pk=project.pk).update(rgw_provisioned=True)
    project.rgw_provisioned = True


def project_reactivate(*, project: Project) -> None:
    if project.rgw_provisioned:
        storage.project_user_suspend(tenant=project.tenant, suspended=False)
    Project.objects.filter(pk=project.pk).update(status=Project.Status.ACTIVE)
    project.status = Project.Status.ACTIVE
