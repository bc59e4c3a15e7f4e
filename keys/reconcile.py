"""Compare Ceph's keys with Latchkey's, one admin call per project.

- A key in Ceph that Latchkey did not issue (or already ended) is reported; it is removed only
  when the operator says so (``remove_unknown``), since an operator may have made it by hand.
- A key Latchkey believes active that Ceph lacks is marked revoked ("missing from Ceph"),
  so nobody is told a key works when it does not.
Scoped keys are users of their own (``T$k…``): a user of that shape with no live key is unknown
too, and one listing of the cluster's users serves every project.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from keys.expiry import PENDING_GRACE
from keys.models import AccessKey, KeyEvent
from projects.models import Project
from storage import client as storage
from storage import homes
from storage.homes import ACCOUNT, TENANT, Home

log = logging.getLogger(__name__)


@dataclass
class ReconcileReport:
    unknown: list[tuple[str, str, str]] = field(default_factory=list)  # (project, access key, subuser)
    removed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    failed_projects: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        return {
            "unknown": len(self.unknown),
            "removed": len(self.removed),
            "missing": len(self.missing),
            "failed_projects": len(self.failed_projects),
        }


def keys_reconcile(*, remove_unknown: bool = False, now: datetime | None = None) -> ReconcileReport:
    now = now or timezone.now()
    report = ReconcileReport()
    try:
        scoped: dict[str, set[str]] | None = storage.scoped_users()
    except storage.StorageError:
        scoped = None  # scoped keys are left alone this time; member keys are still compared
    for project in Project.objects.filter(rgw_provisioned=True, storage_model=TENANT):
        users = None if scoped is None else scoped.get(project.tenant, set())
        try:
            _reconcile_project(project, report, users, remove_unknown=remove_unknown, now=now)
        except storage.StorageError:
            log.warning("reconcile: project %s skipped, Ceph unavailable", project.number)
            report.failed_projects.append(project.number)
    if scoped is not None:
        try:
            _reconcile_accounts(scoped.get("", set()), report, remove_unknown=remove_unknown, now=now)
        except storage.StorageError:
            log.warning("reconcile: accounts' keys skipped, Ceph unavailable")
            report.failed_projects.append("accounts")
    if any(report.summary().values()):
        log.warning("reconcile: %s", report.summary())
    return report


def _reconcile_accounts(users: set[str], report: ReconcileReport, *, remove_unknown: bool, now: datetime) -> None:
    """Keys of projects in RGW accounts: every key is a user of its own, and its id names it
    across the cluster, so one listing covers them all."""
    rows = AccessKey.objects.filter(_live_or_young(now), project__storage_model=ACCOUNT)
    known = set(rows.filter(rgw_user__in=list(users)).values_list("rgw_user", flat=True))
    for user in sorted(users - known):
        report.unknown.append(("-", user, ""))
        if remove_unknown:
            homes.key_remove(Home(tenant="", model=ACCOUNT), access_key="", user=user)
            report.removed.append(user)
    believed = AccessKey.objects.filter(
        project__storage_model=ACCOUNT, status=AccessKey.Status.ACTIVE, created_at__lt=now - PENDING_GRACE
    ).exclude(rgw_user__in=list(users))
    _mark_missing(believed, report, now=now)


def _live_or_young(now: datetime) -> Q:
    young = Q(status=AccessKey.Status.PENDING, created_at__gt=now - PENDING_GRACE)
    return Q(status=AccessKey.Status.ACTIVE) | young


def _reconcile_project(
    project: Project, report: ReconcileReport, users: set[str] | None, *, remove_unknown: bool, now: datetime
) -> None:
    in_ceph = {key.access_key: key.subuser for key in storage.keys_list(tenant=project.tenant)}
    rows = AccessKey.objects.filter(_live_or_young(now), project=project)
    known = set(rows.filter(access_key_id__in=list(in_ceph)).values_list("access_key_id", flat=True))
    if users is not None:
        known_users = set(rows.filter(rgw_user__in=list(users)).values_list("rgw_user", flat=True))
        for user in sorted(users - known_users):
            report.unknown.append((project.number, storage.scoped_uid(project.tenant, user), ""))
            if remove_unknown:
                storage.scoped_user_remove(tenant=project.tenant, user=user)
                report.removed.append(user)
    for access_key, subuser in sorted(in_ceph.items()):
        if access_key in known:
            continue
        report.unknown.append((project.number, access_key, subuser))
        if remove_unknown:
            storage.key_remove(tenant=project.tenant, access_key=access_key)
            report.removed.append(access_key)
    # Keys that Ceph lacks. Only keys older than the creation grace count: a younger one may
    # have its Ceph call still in flight when the snapshot above was taken. Each is re-read
    # under its row lock, since it may have ended meanwhile.
    believed = AccessKey.objects.filter(
        project=project, status=AccessKey.Status.ACTIVE, created_at__lt=now - PENDING_GRACE
    ).exclude(access_key_id__in=list(in_ceph))
    believed = believed.filter(rgw_user="") if users is None else believed.exclude(rgw_user__in=list(users))
    _mark_missing(believed, report, now=now)


def _mark_missing(believed: QuerySet[AccessKey], report: ReconcileReport, *, now: datetime) -> None:
    """Mark revoked the keys Latchkey believes active that Ceph lacks, each re-read under its lock."""
    for key_id in list(believed.values_list("pk", flat=True)):
        with transaction.atomic():
            key = AccessKey.objects.select_for_update().filter(pk=key_id, status=AccessKey.Status.ACTIVE).first()
            if key is None:
                continue
            AccessKey.objects.filter(pk=key.pk).update(
                status=AccessKey.Status.REVOKED, ended_at=now, end_reason="missing from Ceph"
            )
            KeyEvent.objects.create(
                key=key, project_id=key.project_id, action=KeyEvent.Action.REVOKE, at=now, detail="missing from Ceph"
            )
            report.missing.append(key.access_key_id)
