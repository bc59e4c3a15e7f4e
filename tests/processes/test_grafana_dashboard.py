"""docs/grafana-latchkey.json against what a real Latchkey web process exports: gunicorn on the
test stack, asked for /metrics after it has made a Ceph call (the Ceph call figures are counted
per process, so they need one). Every metric name any panel's PromQL reads must be there."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.test import Client
from django.urls import reverse

from buckets.models import Bucket
from projects.models import Membership, Role
from tests.support import ROOT
from tests.support.promql import dashboard_exprs, exported_names, unknown_names
from tests.support.workers import gunicorn, subprocess_database_url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.ceph]
DASHBOARD = ROOT / "docs" / "grafana-latchkey.json"


@pytest.fixture
def web(tmp_path: Path) -> Iterator[str]:
    """The web as deployed (gunicorn, one worker) on this test's database."""
    env = {**os.environ, "LATCHKEY_DATABASE_URL": subprocess_database_url()}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # this process's own figures, as the stack runs it
    with gunicorn(Path(sys.executable).parent, env, tmp_path / "web.log") as url:
        yield url


def test_every_metric_a_panel_reads_is_exported_by_the_running_web(web: str, project, cast) -> None:  # type: ignore[no-untyped-def]
    # A Ceph call in that process: a member reads a bucket's policy, which Ceph does not have
    # (a refused call: both the latency histogram and the error counter get a sample).
    bucket = Bucket.objects.create(project=project, name="not-in-ceph")
    browser = Client()
    browser.force_login(Membership.objects.get(project=project, role=Role.MEMBER).user)
    session = {"sessionid": browser.cookies["sessionid"].value}
    policy = requests.get(
        web + reverse("buckets:policy", args=[project.number, bucket.name]),
        cookies=session,
        timeout=30,
        allow_redirects=False,
    )
    assert policy.status_code == 503  # Ceph answered: no such bucket

    exposition = requests.get(web + "/metrics", timeout=30).text
    assert 'latchkey_ceph_call_seconds_count{operation="get_bucket_policy"} 1.0' in exposition
    assert 'latchkey_ceph_call_errors_total{kind="NoSuchBucket",operation="get_bucket_policy"} 1.0' in exposition
    exported = exported_names(exposition)
    dashboard = json.loads(DASHBOARD.read_text())
    assert unknown_names(dashboard, exported) == {}
    # The check has teeth: the same dashboard with one name misspelt fails it.
    panels = dashboard_exprs(dashboard)
    assert sum(len(e) for e in panels.values()) >= 15
    typo = json.loads(DASHBOARD.read_text().replace("latchkey_queue_depth", "latchkey_queue_dept"))
    assert set().union(*unknown_names(typo, exported).values()) == {"latchkey_queue_dept"}
