"""The exact-time job ends its project's other due keys in the same turn (keys_expire_due),
against real Ceph and PostgreSQL, under a controlled clock: what it ends S3 refuses at both
gateways, what is not due or belongs elsewhere keeps working, and a key whose row another
process holds is skipped, not waited for."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction

from keys.expiry import key_expire, keys_expire_due
from keys.models import AccessKey, KeyEvent
from keys.services import KeyActionError, key_delete, key_locked
from lifecycle.keys import key_create
from projects.models import Project
from tests.support.s3 import s3_error_code, wait_refused

pytestmark = [pytest.mark.ceph]
T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
DUE = T0 + timedelta(hours=1)


def _status(issued) -> str:  # type: ignore[no-untyped-def]
    return str(AccessKey.objects.get(pk=issued.key.pk).status)


@pytest.mark.django_db
def test_one_job_ends_every_due_key_of_its_project_and_nothing_else(project, member_of, unique) -> None:  # type: ignore[no-untyped-def]
    due = [key_create(membership=member_of(project), hours=1, description=f"due {i}", now=T0) for i in range(4)]
    later = key_create(membership=member_of(project), hours=2, description="later", now=T0)
    number = unique()
    elsewhere = Project.objects.create(number=number, title="other", tenant=f"t{number}")
    other = key_create(membership=member_of(elsewhere), hours=1, description="other project", now=T0)

    assert keys_expire_due(key_id=due[2].key.pk, now=DUE) == 4
    for issued in due:
        assert _status(issued) == AccessKey.Status.EXPIRED
        assert wait_refused(issued.key.access_key_id, issued.secret) == "InvalidAccessKeyId"
    assert KeyEvent.objects.filter(key__in=[d.key for d in due], action=KeyEvent.Action.EXPIRE).count() == 4
    for kept in (later, other):
        assert _status(kept) == AccessKey.Status.ACTIVE
        assert s3_error_code(kept.key.access_key_id, kept.secret) is None
    # The other keys' own jobs then find nothing to do.
    assert keys_expire_due(key_id=due[0].key.pk, now=DUE) == 0


@pytest.mark.django_db
def test_a_stale_job_ends_nothing_that_is_not_due(project, member_of) -> None:  # type: ignore[no-untyped-def]
    extended = key_create(membership=member_of(project), hours=2, description="extended", now=T0)
    assert keys_expire_due(key_id=extended.key.pk, now=DUE) == 0
    assert s3_error_code(extended.key.access_key_id, extended.secret) is None


@pytest.mark.django_db(transaction=True)
def test_a_key_held_by_another_process_is_skipped_not_waited_for(project, member_of) -> None:  # type: ignore[no-untyped-def]
    first, held = (key_create(membership=member_of(project), hours=1, description=d, now=T0) for d in ("a", "b"))
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:  # e.g. an extension in progress: the row is locked, Ceph not yet asked
        try:
            with transaction.atomic():
                key_locked(held.key.pk)
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(10)
        assert keys_expire_due(key_id=first.key.pk, now=DUE) == 1  # returns while the row is held
        assert _status(held) == AccessKey.Status.ACTIVE
        assert s3_error_code(held.key.access_key_id, held.secret) is None
    finally:
        release.set()
        holder.join(30)
    assert key_expire(key_id=held.key.pk, now=DUE)  # its own job (or the sweep) ends it
    assert wait_refused(held.key.access_key_id, held.secret) == "InvalidAccessKeyId"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_a_turn_racing_deletions_leaves_every_key_ended_once(project, member_of, attempt: int) -> None:  # type: ignore[no-untyped-def]
    """The turn holds the project's Ceph lock and takes key rows; a deletion takes its key's row
    and then that lock. Neither may wait for the other in a circle (PostgreSQL would abort one
    with a deadlock): each key ends exactly once, by whichever came first."""
    members = [member_of(project) for _ in range(6)]
    issued = [key_create(membership=m, hours=1, description=f"k{i}", now=T0) for i, m in enumerate(members)]
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def run(action) -> None:  # type: ignore[no-untyped-def]
        barrier.wait()
        try:
            action()
        except KeyActionError:
            pass  # "This key has already ended": the turn came first
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    actions = [
        lambda: keys_expire_due(key_id=issued[0].key.pk, now=DUE),
        lambda: key_delete(key=issued[1].key, actor=members[1].user, now=DUE),
        lambda: key_delete(key=issued[3].key, actor=members[3].user, now=DUE),
        lambda: key_expire(key_id=issued[5].key.pk, now=DUE),
    ]
    threads = [threading.Thread(target=run, args=(a,)) for a in actions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    for key in issued:
        row = AccessKey.objects.get(pk=key.key.pk)
        assert row.status in (AccessKey.Status.EXPIRED, AccessKey.Status.REVOKED)
        assert KeyEvent.objects.filter(key=row).exclude(action=KeyEvent.Action.CREATE).count() == 1
        assert wait_refused(key.key.access_key_id, key.secret) == "InvalidAccessKeyId"
