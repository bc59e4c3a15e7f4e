"""The operators' overview (/operators/): each figure from known data under a fixed clock, the
links lead to admin lists holding what was counted, /metrics and the page agree on the
revocation lag, and the page's queries do not grow with the data. Who may open it is in
test_authorization_all.py."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from buckets.models import Bucket
from buckets.selectors import POLICIES_CHECK, USAGE_REFRESH
from buckets.tasks import policies_check_task, projects_refresh_usage_task
from heartbeats.models import Heartbeat
from heartbeats.services import heartbeat_completed
from keys.models import AccessKey
from keys.selectors import RECONCILE, SWEEP
from keys.tasks import keys_reconcile_task
from lifecycle.memberships import STALE
from lifecycle.overview import LIST_LIMIT, operator_overview
from lifecycle.recheck import RECHECK
from projects.models import Membership, Project, Role
from storage import client as storage
from tests.support.metrics import metric_value
from tests.support.web import client_for
from usage.services import PRUNE, usage_prune_run

pytestmark = [pytest.mark.django_db]
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
GB = 10**9
URL = "/operators/"


def _key(project: Project, owner: User, **fields: object) -> AccessKey:
    values: dict[str, object] = {"status": AccessKey.Status.ACTIVE, "created_at": T0 - timedelta(hours=1)}
    values |= fields
    return AccessKey.objects.create(
        access_key_id="LK" + secrets.token_hex(9).upper(), project=project, owner=owner, description="d", **values
    )


def _project(unique, **fields: object) -> Project:  # type: ignore[no-untyped-def]
    number = unique()
    return Project.objects.create(number=number, title=f"P {number}", tenant=f"t{number}", **fields)


def _page(user: User | None) -> str:
    with time_machine.travel(T0, tick=False):
        response = client_for(user).get(URL)
    assert response.status_code == 200
    return response.content.decode()


def test_projects_at_the_warning_threshold_or_over_are_listed_fullest_first(unique, cast) -> None:  # type: ignore[no-untyped-def]
    over = _project(unique, quota_bytes=100 * GB, usage_bytes=120 * GB, usage_at=T0)
    near = _project(unique, quota_bytes=100 * GB, usage_bytes=90 * GB, usage_at=T0)
    below = _project(unique, quota_bytes=100 * GB, usage_bytes=89 * GB, usage_at=T0)
    unlimited = _project(unique, usage_bytes=500 * GB, usage_at=T0)
    suspended = _project(unique, quota_bytes=GB, usage_bytes=GB, status=Project.Status.SUSPENDED)
    found = operator_overview(now=T0).near_quota
    assert found.total == 2 and found.shown == [over, near]
    # The database's test is the model's (Project.usage_warning), one project at a time.
    assert [p.usage_warning for p in (over, near, below, unlimited)] == [True, True, False, False]
    page = _page(cast["operator"])
    assert "2 active projects at 90 % of the quota or more" in page
    assert reverse("admin:projects_project_change", args=[over.pk]) in page
    assert f">{over.number}</a>" in page and "120 % <strong" in page
    assert below.number not in page and suspended.number not in page


def test_limits_in_ceph_are_shown_before_they_bite(unique, cast) -> None:  # type: ignore[no-untyped-def]
    full = _project(unique, quota_max_buckets=10, storage_model="account")
    roomy = _project(unique, quota_max_buckets=11)
    for project in (full, roomy):
        Bucket.objects.bulk_create(
            [Bucket(project=project, name=f"b{n}", created_at=T0) for n in range(9)]  # 90 % of 10, 82 % of 11
        )
    large = {"actions": "write", "anywhere": True, "narrowed": [["b" * 60, "read", "", []]] * 7000, "reach": []}
    big = _key(full, cast["member"], rights=large, expires_at=T0 + timedelta(days=5))
    small = _key(full, cast["member"], rights={**large, "narrowed": []}, expires_at=T0 + timedelta(days=5))
    found = operator_overview(now=T0)
    assert (found.near_bucket_limit.total, found.near_bucket_limit.shown) == (1, [full])
    assert (found.rights_near_limit.total, found.rights_near_limit.shown) == (1, [big])
    page = _page(cast["operator"])
    assert "1 active project at 90 % of the buckets Ceph lets it have or more" in page
    assert f">{full.number}</a>" in page and f">{roomy.number}</a>" not in page
    assert big.access_key_id in page and small.access_key_id not in page


def test_keys_ending_within_24_hours_are_counted_and_listed_and_the_link_lists_them(project, cast) -> None:  # type: ignore[no-untyped-def]
    member = cast["member"]
    soon = _key(project, member, expires_at=T0 + timedelta(hours=3))
    later = _key(project, member, expires_at=T0 + timedelta(hours=30))
    deleted = _key(project, member, expires_at=T0 + timedelta(hours=2), status=AccessKey.Status.REVOKED)
    overdue = _key(project, member, expires_at=T0 - timedelta(minutes=1))
    found = operator_overview(now=T0)
    assert found.ending_soon.total == 1 and found.ending_soon.shown == [soon]
    page = _page(cast["operator"])
    assert soon.access_key_id in page and "1 key</a> ends by" in page
    for other in (later, deleted, overdue):
        assert other.access_key_id not in page
    # The count links to the admin's key list filtered to the same keys.
    link = re.search(r'<a href="([^"]+)">1 key</a>', page)
    assert link
    with time_machine.travel(T0, tick=False):
        listed = client_for(cast["operator"]).get(link.group(1).replace("&amp;", "&"))
    assert listed.status_code == 200
    text = listed.content.decode()
    assert soon.access_key_id in text and later.access_key_id not in text and overdue.access_key_id not in text


def test_more_keys_than_the_list_shows_are_all_counted(project, cast) -> None:  # type: ignore[no-untyped-def]
    for hours in range(1, LIST_LIMIT + 4):
        _key(project, cast["member"], expires_at=T0 + timedelta(hours=hours))
    found = operator_overview(now=T0).ending_soon
    assert found.total == LIST_LIMIT + 3 and len(found.shown) == LIST_LIMIT and found.more == 3
    assert ">And 3 more</a>" in _page(cast["operator"])


def test_revocation_lag_is_the_one_metrics_reports(project, cast) -> None:  # type: ignore[no-untyped-def]
    member = cast["member"]
    for lag in (10, 20, 30, 40):
        due = T0 - timedelta(hours=1, seconds=lag)
        _key(project, member, status=AccessKey.Status.EXPIRED, expires_at=due, ended_at=due + timedelta(seconds=lag))
    # Proven refused at S3 90 s after expiry: that is the lag, not the removal's 5 s.
    due = T0 - timedelta(hours=2)
    _key(
        project,
        member,
        status=AccessKey.Status.EXPIRED,
        expires_at=due,
        ended_at=due + timedelta(seconds=5),
        refused_at=due + timedelta(seconds=90),
    )
    old = T0 - timedelta(hours=30)  # ended before the 24 h window
    _key(project, member, status=AccessKey.Status.EXPIRED, expires_at=old, ended_at=old + timedelta(seconds=999))
    lag = operator_overview(now=T0).revocation_lag
    assert (lag.keys, lag.median, lag.p99, lag.max) == (5, 30.0, 90.0, 90.0)
    with time_machine.travel(T0, tick=False):
        metrics = Client().get("/metrics").content.decode()
    quantiles = {
        q: metric_value(metrics, f'latchkey_revocation_lag_seconds{{quantile="{q}"}}') for q in lag.quantiles()
    }
    assert quantiles == {0.5: 30.0, 0.99: 90.0, 1.0: 90.0}
    page = _page(cast["operator"])
    lag_list = re.search(r'<dl class="key" id="revocation-lag">.*?</dl>', page, re.S)
    assert lag_list and re.findall(r"<dd>([\d.]+) s</dd>", lag_list.group(0)) == ["30.0", "90.0", "90.0"]
    assert "5 keys that expired in the last 24 hours" in page


def test_ceph_work_waiting_is_counted(project, cast, make_user) -> None:  # type: ignore[no-untyped-def]
    stale = Membership.objects.get(project=project, role=Role.DEPUTY)
    Membership.objects.filter(pk=stale.pk).update(rgw_access=STALE)
    ending = Membership.objects.create(user=make_user("leaver"), project=project, status=Membership.Status.ENDING)
    Bucket.objects.create(project=project, name="dirty", policy_dirty=True)
    Bucket.objects.create(project=project, name="clean")
    _key(project, cast["member"], expires_at=T0 - timedelta(minutes=2))  # overdue, still in Ceph
    # Pending for ten minutes (abandoned), and being created right now (not abandoned).
    for age in (timedelta(minutes=10), timedelta(seconds=10)):
        pending = {"status": AccessKey.Status.PENDING, "created_at": T0 - age, "expires_at": T0 + timedelta(hours=1)}
        _key(project, cast["member"], **pending)
    found = operator_overview(now=T0)
    assert (found.stale_memberships.total, found.ending_memberships.total, found.dirty_buckets.total) == (1, 1, 1)
    assert (found.overdue_keys, found.abandoned_keys, found.pending_ceph_work) == (1, 1, 5)
    page = _page(cast["operator"])
    for cell in ("stale-memberships", "ending-memberships", "dirty-buckets", "overdue-keys", "abandoned-keys"):
        assert f'<td id="{cell}">1</td>' in page
    assert f"{stale.user.username} (deputy), access level not applied" in page
    assert f"{ending.user.username}, ending" in page
    dirty = re.search(r'<a href="([^"]+)">Buckets whose policy', page)
    assert dirty
    listed = client_for(cast["operator"]).get(dirty.group(1).replace("&amp;", "&")).content.decode()
    assert "dirty" in listed and "clean" not in listed


def test_each_jobs_last_run_with_what_it_found_and_what_failed(cast, settings) -> None:  # type: ignore[no-untyped-def]
    settings.LATCHKEY_SWEEP_SECONDS = 60
    heartbeat_completed(
        name=SWEEP, summary={"expired": 2, "cleaned": 0, "scheduled": 1, "failed": 1}, now=T0 - timedelta(seconds=30)
    )
    heartbeat_completed(
        name=RECONCILE,
        summary={"unknown": 1, "removed": 0, "missing": 0, "failed_projects": 2},
        now=T0 - timedelta(hours=5),
    )  # three hourly runs missed
    heartbeat_completed(name=USAGE_REFRESH, summary={"refreshed": 4, "failed": 0}, now=T0 - timedelta(minutes=5))
    heartbeat_completed(
        name=RECHECK,
        summary={"myaccessid": {"ok": 3, "unavailable": 2}, "haka": {"ok": 1}},
        now=T0 - timedelta(minutes=20),
    )
    usage_prune_run(now=T0 - timedelta(minutes=50), keep=[(86400, 0)])
    jobs = {job.name: job for job in operator_overview(now=T0).jobs}
    assert list(jobs) == [SWEEP, RECONCILE, POLICIES_CHECK, USAGE_REFRESH, PRUNE, RECHECK]
    assert (jobs[SWEEP].failed, jobs[SWEEP].late, jobs[SWEEP].age_seconds) == (1, False, 30.0)
    assert (jobs[RECONCILE].failed, jobs[RECONCILE].late) == (2, True)
    assert jobs[POLICIES_CHECK].completed_at is None and jobs[POLICIES_CHECK].late
    assert (jobs[USAGE_REFRESH].failed, jobs[USAGE_REFRESH].late) == (0, False)
    assert jobs[RECHECK].failed == 2
    assert [(f.label, f.value) for f in jobs[RECHECK].figures] == [
        ("haka ok", 1),
        ("myaccessid ok", 3),
        ("myaccessid unavailable", 2),
    ]
    page = _page(cast["operator"])
    rows = dict(re.findall(r'<tr>\s*<th scope="row">([^<]+)</th>(.*?)</tr>', page, re.S))
    assert "cleaned: 0, expired: 2, scheduled: 1, failed: 1" in rows["Expiry sweep"]
    assert '<strong class="warn-text">1</strong>' in rows["Expiry sweep"] and "late" not in rows["Expiry sweep"]
    assert "failed projects: 2" in rows["Reconcile with Ceph"] and "late</strong>" in rows["Reconcile with Ceph"]
    assert "never" in rows["Bucket policy drift check"]
    assert "myaccessid unavailable: 2" in rows["Membership re-check"]
    assert "expired: 0, thinned: 0" in rows["Usage history pruning"] and "late" not in rows["Usage history pruning"]


@pytest.mark.ceph
def test_the_jobs_leave_the_heartbeats_the_overview_reads(project) -> None:  # type: ignore[no-untyped-def]
    Bucket.objects.create(project=project, name="never-made", policy_dirty=True)
    Project.objects.filter(pk=project.pk).update(rgw_provisioned=True)  # its buckets are checked; Ceph lacks them
    jobs = (
        (keys_reconcile_task, RECONCILE),
        (policies_check_task, POLICIES_CHECK),
        (projects_refresh_usage_task, USAGE_REFRESH),
    )
    for task, name in jobs:
        summary = task()
        assert Heartbeat.objects.get(name=name).summary == summary
    assert Heartbeat.objects.get(name=POLICIES_CHECK).summary["failed"] == 1  # the bucket Ceph does not have
    assert Heartbeat.objects.get(name=USAGE_REFRESH).summary["failed"] == 1  # nor the project's user


@pytest.mark.ceph
def test_ceph_call_errors_and_health_checks_are_shown(cast) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(storage.StorageError):
        storage.project_user_suspend(tenant="no_such_tenant_x", suspended=True)  # refused by real Ceph
    calls = {c.operation: c for c in operator_overview(now=T0).ceph_calls}
    assert calls["modify_user"].failed >= 1 and calls["modify_user"].calls >= 1
    page = _page(cast["operator"])
    assert re.search(r"<code>modify_user</code></th><td>\d+</td><td><strong class=\"warn-text\">\d+</strong> \w+", page)
    assert "by this web process only" in page  # the test process has no PROMETHEUS_MULTIPROC_DIR
    for check in ("database", "redis", "ceph"):
        assert re.search(rf'<th scope="row">{check}</th><td>OK</td>', page), check
    # No sweep has completed in this test's database: the sweep check is down and says why.
    assert re.search(r'<th scope="row">sweep</th><td><strong class="warn-text">Down</strong>', page)
    assert 'id="expiry-not-enforced"' in page


def test_only_operators_see_the_link_in_the_navigation(cast) -> None:  # type: ignore[no-untyped-def]
    link = f'<a href="{URL}"'
    assert link in client_for(cast["operator"]).get(reverse("projects:list")).content.decode()
    for who in ("outsider", "member", "manager"):
        assert link not in client_for(cast[who]).get(reverse("projects:list")).content.decode()


@pytest.mark.ceph
def test_the_page_costs_the_same_queries_however_much_data(unique, cast, make_user) -> None:  # type: ignore[no-untyped-def]
    def queries() -> int:
        client = client_for(cast["operator"])
        with time_machine.travel(T0, tick=False), CaptureQueriesContext(connection) as captured:
            assert client.get(URL).status_code == 200
        return len(captured.captured_queries)

    def add(n: int) -> None:
        for _ in range(n):
            project = _project(unique, quota_bytes=GB, usage_bytes=GB, usage_at=T0)
            user = make_user("m")
            Membership.objects.create(user=user, project=project, rgw_access=STALE)
            Membership.objects.create(user=make_user("e"), project=project, status=Membership.Status.ENDING)
            Bucket.objects.create(project=project, name="b", policy_dirty=True)
            _key(project, user, expires_at=T0 + timedelta(days=5))
            _key(project, user, expires_at=T0 - timedelta(minutes=5))
            _key(
                project,
                user,
                status=AccessKey.Status.EXPIRED,
                expires_at=T0 - timedelta(hours=1),
                ended_at=T0 - timedelta(minutes=59),
            )

    add(2)
    few = queries()
    add(3 * LIST_LIMIT)
    many = queries()
    assert many == few, (few, many)
