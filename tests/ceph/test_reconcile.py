"""The reconciler compares real Ceph with the database."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from keys.models import AccessKey, KeyEvent
from keys.reconcile import keys_reconcile
from lifecycle.keys import key_create
from storage import client as storage
from tests.support.s3 import s3_error_code, wait_refused

pytestmark = [pytest.mark.ceph, pytest.mark.django_db]


def _stray_key(project, subuser: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    access = "ZZ" + secrets.token_hex(9).upper()
    return access, storage.key_create(tenant=project.tenant, subuser=subuser, access_key=access)


def test_unknown_key_is_reported_and_removed_only_when_asked(project, member_of, capsys) -> None:  # type: ignore[no-untyped-def]
    membership = member_of(project)
    issued = key_create(membership=membership, hours=1, description="ours")
    stray, stray_secret = _stray_key(project, membership.user.rgw_name)

    report = keys_reconcile()
    # Other tests' accounts leave key users whose rows rolled back: reported under "-", not here.
    ours = [entry for entry in report.unknown if entry[0] != "-"]
    assert ours == [(project.number, stray, membership.user.rgw_name)] and report.removed == []
    assert s3_error_code(stray, stray_secret) is None  # reported, not touched

    call_command("keys_reconcile", "--remove-unknown")
    out = capsys.readouterr().out
    assert f"removed: {stray} in project {project.number}" in out
    assert wait_refused(stray, stray_secret) == "InvalidAccessKeyId"
    assert s3_error_code(issued.key.access_key_id, issued.secret) is None  # ours untouched
    assert keys_reconcile().summary() == {"unknown": 0, "removed": 0, "missing": 0, "failed_projects": 0}


def test_key_missing_from_ceph_is_marked(project, member_of) -> None:  # type: ignore[no-untyped-def]
    membership = member_of(project)
    old = key_create(membership=membership, hours=5, description="old", now=timezone.now() - timedelta(minutes=10))
    young = key_create(membership=membership, hours=5, description="young")
    for issued in (old, young):
        storage.key_remove(tenant=project.tenant, access_key=issued.key.access_key_id)  # behind Latchkey's back

    report = keys_reconcile()
    assert report.missing == [old.key.access_key_id]  # the young one may still be in flight
    row = AccessKey.objects.get(pk=old.key.pk)
    assert (row.status, row.end_reason) == (AccessKey.Status.REVOKED, "missing from Ceph")
    assert KeyEvent.objects.filter(key=row, action=KeyEvent.Action.REVOKE).exists()
    assert AccessKey.objects.get(pk=young.key.pk).status == AccessKey.Status.ACTIVE


def test_unreachable_ceph_skips_the_project_and_changes_nothing(project, member_of, settings) -> None:  # type: ignore[no-untyped-def]
    membership = member_of(project)
    key_create(membership=membership, hours=5, description="k", now=timezone.now() - timedelta(minutes=10))
    settings.LATCHKEY_RGW_ADMIN_URL = "http://127.0.0.1:9"
    report = keys_reconcile()
    assert report.failed_projects == [project.number] and report.missing == []
    assert AccessKey.objects.get().status == AccessKey.Status.ACTIVE
