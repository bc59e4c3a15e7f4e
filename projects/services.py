"""Writes to projects. Each keeps Latchkey's database and Ceph in agreement; flows that also
touch memberships, keys or buckets are in lifecycle/."""

from __future__ import annotations

import logging

from django.conf import settings

from projects.models import Project
from projects.quota import project_apply_quota
from storage import homes

log = logging.getLogger(__name__)


def storage_model_for_new() -> str:
    """Where a new project lives in Ceph: ``LATCHKEY_STORAGE_MODEL`` ("auto": an RGW account on a
    cluster that has them). Raises StorageError if "auto" cannot ask Ceph."""
    return homes.model_for_new(settings.LATCHKEY_STORAGE_MODEL)


def project_create(*, number: str, title: str, tenant: str | None = None, storage_model: str | None = None) -> Project:
    """Create a project (operators). The tenant defaults to the project number; where it lives in
    Ceph, to ``storage_model_for_new``."""
    project = Project(
        number=number,
        title=title,
        tenant=tenant or number,
        storage_model=storage_model or storage_model_for_new(),
    )
    project.full_clean()
    project.save()
    return project


def project_provision(*, project: Project) -> None:
    """Make the project exist in Ceph (its tenant's user ``T$T``, or its account). Safe to repeat."""
    if project.rgw_provisioned:
        return
    home = homes.provision(project.home, display_name=f"{project.number} {project.title}"[:120])
    Project.objects.filter(pk=project.pk).update(rgw_account=home.account)
    project.rgw_account = home.account
    project_apply_quota(project=project)
    Project.objects.filter(pk=project.pk).update(rgw_provisioned=True)
    project.rgw_provisioned = True


def project_reactivate(*, project: Project) -> None:
    if project.rgw_provisioned:
        homes.suspend(project.home, suspended=False)
    Project.objects.filter(pk=project.pk).update(status=Project.Status.ACTIVE)
    project.status = Project.Status.ACTIVE
