"""The expiry sweep through a real Celery worker on the test stack's Redis."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from buckets.models import Bucket as ProjectBucket
from buckets.services import bucket_create
from heartbeats.models import Heartbeat
from keys.models import AccessKey
from keys.scopes import scope_from
from lifecycle.keys import key_create
from portal.celery import app as celery_app
from projects.models import Role as MemberRole
from storage.client import bucket_policy_get, scoped_users
from tests.support.ceph import access_statements
from tests.support.s3 import s3_error_code, wait_refused
from tests.support.workers import start_worker, stop_worker, sweep_until_expired
from usage.models import UsagePoint
from usage.services import PRUNE

pytestmark = [pytest.mark.ceph]


@pytest.mark.django_db(transaction=True)
def test_worker_expires_an_overdue_key_in_ceph(worker, project, member_of) -> None:  # type: ignore[no-untyped-def]
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        pytest.fail("this test needs the PostgreSQL of the test stack (make test)")
    membership = member_of(project)
    overdue = key_create(membership=membership, hours=1, description="old", now=timezone.now() - timedelta(hours=2))
    current = key_create(membership=membership, hours=1, description="current")
    assert s3_error_code(overdue.key.access_key_id, overdue.secret) is None  # Ceph never expires it itself

    sweep_until_expired(worker, overdue.key.pk)
    assert wait_refused(overdue.key.access_key_id, overdue.secret) == "InvalidAccessKeyId"
    assert AccessKey.objects.get(pk=current.key.pk).status == AccessKey.Status.ACTIVE
    assert s3_error_code(current.key.access_key_id, current.secret) is None


@pytest.mark.django_db(transaction=True)
def test_worker_writes_the_policies_a_group_change_marked(worker, project, member_of) -> None:  # type: ignore[no-untyped-def]
    from buckets.grants import GrantRequest, grant_create
    from buckets.groups import group_create, group_set_members
    from buckets.models import Bucket
    from buckets.services import bucket_create, bucket_set_members_access
    from projects.models import Role

    manager, member = member_of(project, Role.MANAGER, "boss"), member_of(project)
    issued = key_create(membership=member, hours=1, description="group member")
    group = group_create(project=project, name="team")
    bucket = bucket_create(membership=manager, name="team-data")
    bucket_set_members_access(bucket=bucket, members_access=Bucket.MembersAccess.NONE)
    grant_create(
        actor=manager.user, bucket=bucket, request=GrantRequest(kind="group", access="read", group_id=group.pk)
    )
    s3 = storage_client(issued)
    assert _lists(s3, "team-data") is False

    group_set_members(group=group, membership_ids=[member.pk])  # queues the task on commit
    deadline = time.monotonic() + 60
    while Bucket.objects.get(pk=bucket.pk).policy_dirty:
        assert worker.poll() is None, worker.stdout.read()
        assert time.monotonic() < deadline, "the worker did not write the policy"
        time.sleep(0.2)
    assert _lists(s3, "team-data") is True


def storage_client(issued):  # type: ignore[no-untyped-def]
    from storage import client as storage

    return storage.s3_client(access_key=issued.key.access_key_id, secret_key=issued.secret)


def _lists(s3, bucket: str) -> bool:  # type: ignore[no-untyped-def]
    from botocore.exceptions import ClientError

    try:
        s3.list_objects_v2(Bucket=bucket)
    except ClientError:
        return False
    return True


@pytest.mark.django_db(transaction=True)
def test_a_starting_worker_sweeps_without_being_asked(project, member_of) -> None:  # type: ignore[no-untyped-def]
    """No beat and no sweep sent: the worker's own start removes what fell due while it was away."""
    membership = member_of(project)
    overdue = key_create(membership=membership, hours=1, description="old", now=timezone.now() - timedelta(hours=2))
    celery_app.control.purge()
    proc = start_worker()
    try:
        deadline = time.monotonic() + 60
        while AccessKey.objects.get(pk=overdue.key.pk).status != AccessKey.Status.EXPIRED:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else "the worker stopped"
            assert time.monotonic() < deadline, "the starting worker did not sweep"
            time.sleep(0.2)
    finally:
        stop_worker(proc)
    assert wait_refused(overdue.key.access_key_id, overdue.secret) == "InvalidAccessKeyId"


@pytest.mark.django_db(transaction=True)
def test_worker_ends_a_scoped_key_and_then_its_statements(worker, project, member_of) -> None:  # type: ignore[no-untyped-def]
    """Nothing of an expired scoped key stays in Ceph: the worker removes its user, and the task
    its end queues rewrites the bucket that named it, with nobody else asking."""
    manager, member = member_of(project, MemberRole.MANAGER, "boss"), member_of(project)
    bucket_create(membership=manager, name="job-input")
    scope = scope_from("buckets", [("job-input", "read")])
    issued = key_create(membership=member, hours=1, description="job", scope=scope)
    assert issued.key.rgw_user in str(bucket_policy_get(tenant=project.tenant, name="job-input"))
    AccessKey.objects.filter(pk=issued.key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    sweep_until_expired(worker, issued.key.pk)
    assert wait_refused(issued.key.access_key_id, issued.secret) == "InvalidAccessKeyId"
    deadline = time.monotonic() + 60
    while access_statements(bucket_policy_get(tenant=project.tenant, name="job-input")):
        assert worker.poll() is None, worker.stdout.read()
        assert time.monotonic() < deadline, "the worker did not remove the statement"
        time.sleep(0.2)
    assert not ProjectBucket.objects.get(project=project, name="job-input").policy_dirty
    assert project.tenant not in scoped_users()


@pytest.mark.django_db(transaction=True)
def test_the_worker_knows_every_scheduled_task_and_prunes_usage(worker, project) -> None:  # type: ignore[no-untyped-def]
    # What a worker's autodiscovery imports: each installed app's tasks module. (Not the loader's
    # import_default_modules: its Django fixup runs django.setup() again, which resets logging.)
    celery_app.loader.autodiscover_tasks([app.name for app in apps.get_app_configs()])
    assert {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} <= set(celery_app.tasks)

    old = timezone.now() - timedelta(days=800)  # past the last band of the default LATCHKEY_USAGE_KEEP
    UsagePoint.objects.create(project=project, bucket="", at=old, size_bytes=1, object_count=1)
    UsagePoint.objects.create(project=project, bucket="", at=timezone.now(), size_bytes=2, object_count=1)
    Heartbeat.objects.filter(name=PRUNE).delete()
    celery_app.send_task(settings.CELERY_BEAT_SCHEDULE["usage-prune"]["task"])
    deadline = time.monotonic() + 30
    while not Heartbeat.objects.filter(name=PRUNE).exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert Heartbeat.objects.get(name=PRUNE).summary["expired"] >= 1
    assert list(UsagePoint.objects.filter(project=project).values_list("size_bytes", flat=True)) == [2]


@pytest.mark.django_db(transaction=True)
def test_an_end_set_seconds_ahead_is_kept_by_the_worker_without_a_sweep(worker, project, member_of) -> None:  # type: ignore[no-untyped-def]
    """`manage.py key_set_expiry … --in 3` queues the key's exact-time job at once: the worker
    (no beat here, so no sweep) removes it from Ceph at its new end."""
    issued = key_create(membership=member_of(project), hours=24, description="leaked")
    call_command("key_set_expiry", issued.key.access_key_id, "--in", "3")
    assert s3_error_code(issued.key.access_key_id, issued.secret) is None
    assert wait_refused(issued.key.access_key_id, issued.secret, timeout=20) == "InvalidAccessKeyId"
    assert AccessKey.objects.get(pk=issued.key.pk).status == AccessKey.Status.EXPIRED
