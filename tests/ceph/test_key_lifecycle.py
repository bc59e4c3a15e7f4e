"""The key lifecycle against real Ceph, under a controlled clock (services take ``now``)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from keys.expiry import key_expire, keys_sweep
from keys.models import AccessKey, KeyEvent
from keys.services import KeyActionError, key_edit_description, key_extend
from lifecycle.keys import key_create
from lifecycle.memberships import project_suspend
from projects.models import Project
from projects.services import project_reactivate
from storage import client as storage
from tests.support.s3 import s3_error_code, wait_refused

pytestmark = [pytest.mark.ceph]
T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_key_works_before_expiry_refused_after_and_extension_keeps_it_alive(project, member_of) -> None:  # type: ignore[no-untyped-def]
    membership = member_of(project)
    kept = key_create(membership=membership, hours=1, description="extended", now=T0)
    lapsed = key_create(membership=membership, hours=1, description="not extended", now=T0)
    key_extend(key=kept.key, hours=3, actor=membership.user, now=T0 + timedelta(minutes=30))

    keys_sweep(now=T0 + timedelta(minutes=59))
    assert s3_error_code(kept.key.access_key_id, kept.secret) is None
    assert s3_error_code(lapsed.key.access_key_id, lapsed.secret) is None

    keys_sweep(now=T0 + timedelta(hours=1, seconds=1))  # past the original expiry of both
    assert wait_refused(lapsed.key.access_key_id, lapsed.secret) == "InvalidAccessKeyId"
    assert s3_error_code(kept.key.access_key_id, kept.secret) is None
    kept_row = AccessKey.objects.get(pk=kept.key.pk)
    assert kept_row.expires_at == T0 + timedelta(hours=3, minutes=30)
    assert kept_row.last_extended_at == T0 + timedelta(minutes=30)

    keys_sweep(now=T0 + timedelta(hours=3, minutes=30))
    assert wait_refused(kept.key.access_key_id, kept.secret) == "InvalidAccessKeyId"
    assert AccessKey.objects.get(pk=kept.key.pk).status == AccessKey.Status.EXPIRED


@pytest.mark.django_db
def test_extension_any_number_of_times_up_to_now_plus_the_maximum(project, member_of) -> None:  # type: ignore[no-untyped-def]
    membership = member_of(project)
    key = key_create(membership=membership, hours=168, description="long", now=T0).key
    for day in range(1, 4):
        now = T0 + timedelta(days=day)
        key = key_extend(key=key, hours=168, actor=membership.user, now=now)
        assert key.expires_at == now + timedelta(hours=168)
    with pytest.raises(KeyActionError, match="between 1 and 168"):
        key_extend(key=key, hours=169, actor=membership.user, now=T0 + timedelta(days=4))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("earlier", "already expires later"),
        ("expired", "has expired or was deleted"),
        ("deleted", "has expired or was deleted"),
        ("too long", "between 1 and 168"),
        ("zero", "between 1 and 168"),
    ],
)
def test_bad_extensions_change_nothing(project, member_of, case: str, message: str) -> None:  # type: ignore[no-untyped-def]
    membership = member_of(project)
    key = key_create(membership=membership, hours=10, description="k", now=T0).key
    hours, now = 2, T0 + timedelta(hours=1)
    if case == "expired":
        now = T0 + timedelta(hours=10)
    elif case == "deleted":
        AccessKey.objects.filter(pk=key.pk).update(status=AccessKey.Status.REVOKED)
    elif case == "too long":
        hours = 169
    elif case == "zero":
        hours = 0
    before = AccessKey.objects.filter(pk=key.pk).values().get()
    with pytest.raises(KeyActionError, match=message):
        key_extend(key=key, hours=hours, actor=membership.user, now=now)
    assert AccessKey.objects.filter(pk=key.pk).values().get() == before
    assert not KeyEvent.objects.filter(key=key, action=KeyEvent.Action.EXTEND).exists()


@pytest.mark.django_db
def test_project_limit_lowers_the_longest_lifetime(project, member_of) -> None:  # type: ignore[no-untyped-def]
    Project.objects.filter(pk=project.pk).update(max_key_hours=24)
    project.refresh_from_db()
    membership = member_of(project)
    with pytest.raises(KeyActionError, match="between 1 and 24"):
        key_create(membership=membership, hours=25, description="k", now=T0)
    key = key_create(membership=membership, hours=24, description="k", now=T0).key
    with pytest.raises(KeyActionError, match="between 1 and 24"):
        key_extend(key=key, hours=48, actor=membership.user, now=T0)
    assert storage.keys_list(tenant=project.tenant)[0].access_key == key.access_key_id


@pytest.mark.django_db
def test_stale_expiry_job_does_not_revoke_an_extended_key(project, member_of) -> None:  # type: ignore[no-untyped-def]
    membership = member_of(project)
    issued = key_create(membership=membership, hours=1, description="k", now=T0)
    key_extend(key=issued.key, hours=5, actor=membership.user, now=T0 + timedelta(minutes=50))
    # The job queued for the original expiry fires on time, after the extension.
    assert key_expire(key_id=issued.key.pk, now=T0 + timedelta(hours=1)) is False
    assert AccessKey.objects.get(pk=issued.key.pk).status == AccessKey.Status.ACTIVE
    assert s3_error_code(issued.key.access_key_id, issued.secret) is None
    assert key_expire(key_id=issued.key.pk, now=T0 + timedelta(hours=5, minutes=50)) is True
    assert wait_refused(issued.key.access_key_id, issued.secret) == "InvalidAccessKeyId"


@pytest.mark.django_db
def test_sweep_queues_one_exact_job_per_expiry(project, member_of, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from keys import expiry

    queued: list[tuple[int, datetime]] = []
    monkeypatch.setattr(expiry, "queue_expiry_job", lambda key_id, at: queued.append((key_id, at)))
    membership = member_of(project)
    key = key_create(membership=membership, hours=1, description="k", now=T0).key
    assert keys_sweep(now=T0, horizon=timedelta(minutes=2))["scheduled"] == 0  # not due soon
    assert keys_sweep(now=T0 + timedelta(minutes=59), horizon=timedelta(minutes=2))["scheduled"] == 1
    assert keys_sweep(now=T0 + timedelta(minutes=59, seconds=30), horizon=timedelta(minutes=2))["scheduled"] == 0
    assert queued == [(key.pk, T0 + timedelta(hours=1))]
    key_extend(key=key, hours=1, actor=membership.user, now=T0 + timedelta(minutes=59, seconds=40))
    keys_sweep(now=T0 + timedelta(hours=1, minutes=59), horizon=timedelta(minutes=2))
    assert queued[-1] == (key.pk, T0 + timedelta(hours=1, minutes=59, seconds=40))


@pytest.mark.django_db
def test_active_key_limit_per_member_and_project(project, member_of, settings) -> None:  # type: ignore[no-untyped-def]
    settings.LATCHKEY_KEY_MAX_ACTIVE = 2
    membership = member_of(project)
    first = key_create(membership=membership, hours=1, description="1", now=T0).key
    key_create(membership=membership, hours=1, description="2", now=T0)
    with pytest.raises(KeyActionError, match="already have 2 active keys"):
        key_create(membership=membership, hours=1, description="3", now=T0)
    assert len(storage.keys_list(tenant=project.tenant)) == 2
    keys_sweep(now=T0 + timedelta(hours=2))  # both expire
    assert AccessKey.objects.get(pk=first.pk).status == AccessKey.Status.EXPIRED
    key_create(membership=membership, hours=1, description="after expiry", now=T0 + timedelta(hours=2))


@pytest.mark.django_db
def test_audit_records_who_what_when_and_never_the_secret(project, member_of) -> None:  # type: ignore[no-untyped-def]
    membership = member_of(project)
    issued = key_create(membership=membership, hours=1, description="job", ip="192.0.2.7", now=T0)
    key_edit_description(key=issued.key, description="job 2", actor=membership.user, ip="192.0.2.8", now=T0)
    key_extend(key=issued.key, hours=2, actor=membership.user, ip="192.0.2.9", now=T0 + timedelta(minutes=5))
    keys_sweep(now=T0 + timedelta(hours=3))
    events = list(KeyEvent.objects.filter(key=issued.key).order_by("at", "pk"))
    assert [(e.action, e.actor_id, e.ip) for e in events] == [
        ("create", membership.user.pk, "192.0.2.7"),
        ("edit", membership.user.pk, "192.0.2.8"),
        ("extend", membership.user.pk, "192.0.2.9"),
        ("expire", None, None),
    ]
    assert all(issued.secret not in e.detail for e in events)


@pytest.mark.django_db
def test_deactivated_user_loses_every_key_at_once(project, member_of, unique) -> None:  # type: ignore[no-untyped-def]
    membership = member_of(project)
    number = unique()
    other = Project.objects.create(number=number, title="o", tenant=f"t{number}")
    from projects.models import Membership

    second = Membership.objects.create(user=membership.user, project=other)
    a = key_create(membership=membership, hours=5, description="a")
    b = key_create(membership=second, hours=5, description="b")
    user = membership.user
    user.is_active = False
    user.save()  # as the Django admin does
    for issued in (a, b):
        assert wait_refused(issued.key.access_key_id, issued.secret) == "InvalidAccessKeyId"
        assert AccessKey.objects.get(pk=issued.key.pk).end_reason == "user deactivated"


@pytest.mark.django_db
def test_suspended_project_revokes_keys_and_keeps_data(project, member_of) -> None:  # type: ignore[no-untyped-def]
    owner = member_of(project)
    issued = key_create(membership=owner, hours=5, description="a")
    s3 = storage.s3_client(access_key=issued.key.access_key_id, secret_key=issued.secret)
    bucket = f"keep-{project.number}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="data", Body=b"kept")
    project_suspend(project=project)
    assert wait_refused(issued.key.access_key_id, issued.secret) == "InvalidAccessKeyId"
    assert AccessKey.objects.get(pk=issued.key.pk).status == AccessKey.Status.REVOKED
    assert storage._client().get_user(uid=storage.uid(project.tenant))["suspended"] == 1

    project_reactivate(project=project)
    fresh = key_create(membership=owner, hours=1, description="after")
    s3 = storage.s3_client(access_key=fresh.key.access_key_id, secret_key=fresh.secret)
    assert s3.get_object(Bucket=bucket, Key="data")["Body"].read() == b"kept"


def _race(*actions):  # type: ignore[no-untyped-def]
    """Run the actions at the same moment in threads, each on its own connection."""
    barrier = threading.Barrier(len(actions))
    results: list[object] = [None] * len(actions)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = actions[i]()
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_extension_racing_the_expiry_ends_in_one_consistent_state(project, member_of, attempt: int) -> None:  # type: ignore[no-untyped-def]
    membership = member_of(project)
    issued = key_create(membership=membership, hours=1, description="race", now=T0)
    due = T0 + timedelta(hours=1)
    results = _race(
        lambda: key_expire(key_id=issued.key.pk, now=due),
        lambda: key_extend(key=issued.key, hours=2, actor=membership.user, now=due - timedelta(milliseconds=1)),
    )
    row = AccessKey.objects.get(pk=issued.key.pk)
    in_ceph = issued.key.access_key_id in {k.access_key for k in storage.keys_list(tenant=project.tenant)}
    if row.status == AccessKey.Status.EXPIRED:
        assert results[0] is True and isinstance(results[1], KeyActionError)
        assert not in_ceph
    else:
        assert row.status == AccessKey.Status.ACTIVE and results[0] is False
        assert row.expires_at == due - timedelta(milliseconds=1) + timedelta(hours=2)
        assert in_ceph and s3_error_code(issued.key.access_key_id, issued.secret) is None


@pytest.mark.django_db(transaction=True)
def test_two_extensions_at_once_leave_one_consistent_expiry(project, member_of) -> None:  # type: ignore[no-untyped-def]
    membership = member_of(project)
    issued = key_create(membership=membership, hours=1, description="race", now=T0)
    now = T0 + timedelta(minutes=10)
    results = _race(
        lambda: key_extend(key=issued.key, hours=5, actor=membership.user, now=now),
        lambda: key_extend(key=issued.key, hours=8, actor=membership.user, now=now),
    )
    row = AccessKey.objects.get(pk=issued.key.pk)
    extended = [r for r in results if isinstance(r, AccessKey)]
    assert extended, results
    # Whatever the order, the stored expiry is one that an extension set and reported, and
    # the audit log has exactly one event per successful extension.
    assert row.expires_at in {r.expires_at for r in extended}
    assert KeyEvent.objects.filter(key=row, action=KeyEvent.Action.EXTEND).count() == len(extended)
    assert row.status == AccessKey.Status.ACTIVE
    assert s3_error_code(issued.key.access_key_id, issued.secret) is None
