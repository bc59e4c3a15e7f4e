"""Row locks take only the row they mean. Each lock below once also locked the project's row
through a join (Membership's ordering by project number, select_related("project")); make soak
found the deadlock that made between key creation and a grant on the same project (HTTP 500)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import Model
from django.utils import timezone

from buckets.models import Bucket
from buckets.sync import bucket_locked
from keys.models import AccessKey
from keys.services import key_locked, membership_locked
from projects.models import Membership, Project


def _free(model: type[Model], pk: int) -> bool:
    """Whether another connection can lock this row at once (NOWAIT)."""
    answer: list[bool] = []

    def probe() -> None:
        try:
            with transaction.atomic():
                model.objects.select_for_update(nowait=True).filter(pk=pk).exists()  # type: ignore[attr-defined]
            answer.append(True)
        except DatabaseError:
            answer.append(False)
        finally:
            connection.close()

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join(30)
    return answer == [True]


def _locks_only(lock: Callable[[], object], model: type[Model], pk: int, project: Project) -> None:
    with transaction.atomic():
        lock()
        assert not _free(model, pk)  # the row it means is locked...
        assert _free(Project, project.pk)  # ...and the project's row is not


@pytest.mark.django_db(transaction=True)
def test_member_lock_leaves_the_project_row_free(project, member_of) -> None:  # type: ignore[no-untyped-def]
    membership = member_of(project)
    _locks_only(lambda: membership_locked(membership.pk), Membership, membership.pk, project)


@pytest.mark.django_db(transaction=True)
def test_bucket_lock_leaves_the_project_row_free(project) -> None:  # type: ignore[no-untyped-def]
    bucket = Bucket.objects.create(project=project, name="locked")
    _locks_only(lambda: bucket_locked(bucket.pk), Bucket, bucket.pk, project)


@pytest.mark.django_db(transaction=True)
def test_key_lock_leaves_the_project_row_free(project, member_of) -> None:  # type: ignore[no-untyped-def]
    owner = member_of(project).user
    now = timezone.now()
    key = AccessKey.objects.create(
        access_key_id="LKLOCKSCOPE000000001",
        project=project,
        owner=owner,
        subuser="x",
        created_at=now,
        expires_at=now + timedelta(hours=1),
    )
    _locks_only(lambda: key_locked(key.pk), AccessKey, key.pk, project)
