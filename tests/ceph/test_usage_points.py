"""Usage points are what real Ceph reports: after uploads of known sizes, each refresh keeps a
point for the project and one per bucket with the exact bytes and objects, and the CSV and the
chart show those same figures."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from buckets.inventory import project_refresh_usage
from lifecycle.keys import key_create
from storage import client as storage
from tests.support.web import client_for
from usage.models import UsagePoint

pytestmark = [pytest.mark.django_db, pytest.mark.ceph]
T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def _points(project) -> dict[tuple[datetime, str], tuple[int, int]]:  # type: ignore[no-untyped-def]
    return {(p.at, p.bucket): (p.size_bytes, p.object_count) for p in UsagePoint.objects.filter(project=project)}


def test_each_refresh_keeps_the_figures_ceph_reports(project, member_of) -> None:  # type: ignore[no-untyped-def]
    membership = member_of(project)
    issued = key_create(membership=membership, hours=1, description="usage points")
    s3 = storage.s3_client(access_key=issued.key.access_key_id, secret_key=issued.secret)
    raw, out = f"raw-{project.number}", f"out-{project.number}"
    s3.create_bucket(Bucket=raw)
    s3.create_bucket(Bucket=out)
    s3.put_object(Bucket=raw, Key="a", Body=b"a" * 250_000)
    s3.put_object(Bucket=raw, Key="b", Body=b"b" * 4_096)
    s3.put_object(Bucket=out, Key="c", Body=b"c" * 77_777)
    project_refresh_usage(project=project, now=T0)
    assert _points(project) == {
        (T0, ""): (250_000 + 4_096 + 77_777, 3),
        (T0, raw): (254_096, 2),
        (T0, out): (77_777, 1),
    }

    s3.delete_object(Bucket=raw, Key="a")
    s3.put_object(Bucket=out, Key="d", Body=b"d" * 1_000_000)
    t1 = T0 + timedelta(minutes=10)
    project_refresh_usage(project=project, now=t1)
    later = {key: value for key, value in _points(project).items() if key[0] == t1}
    assert later == {(t1, ""): (4_096 + 1_077_777, 3), (t1, raw): (4_096, 1), (t1, out): (1_077_777, 2)}

    with time_machine.travel(t1 + timedelta(minutes=1), tick=False):
        client = client_for(membership.user)
        response = client.get(reverse("buckets:usage_csv", args=[project.number, out]), {"range": "7d"})
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert rows[1:] == [[T0.isoformat(), out, "77777", "1"], [t1.isoformat(), out, "1077777", "2"]]
        page = client.get(reverse("projects:detail", args=[project.number]), {"range": "7d"}).content.decode()
        # Both refreshes fall in one hour, the 7 days' bin: a figure in words, not a lone dot.
        assert "Latest: Project 1.08 MB in 3 objects;" in page and 'class="usage-chart"' not in page
    t2 = T0 + timedelta(hours=2)
    project_refresh_usage(project=project, now=t2)
    with time_machine.travel(t2 + timedelta(minutes=1), tick=False):
        page = client.get(reverse("projects:detail", args=[project.number]), {"range": "7d"}).content.decode()
        assert "Project: 1.08 MB on 2026-12-03 11:00 UTC" in page  # a second hour: the chart's description
