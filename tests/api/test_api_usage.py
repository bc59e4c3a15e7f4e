"""Usage history through the API, from real figures: objects of known sizes written into real
buckets in Ceph, the usage refresh asking Ceph for them, then the API's points showing exactly
those numbers, the same as the web page's CSV. The range is cut under a frozen clock."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from buckets.inventory import project_refresh_usage
from lifecycle.keys import key_create
from projects.models import Membership, Project, Role
from storage import client as storage
from tests.support.api import Api, device_token
from tests.support.web import client_for

pytestmark = [pytest.mark.ceph, pytest.mark.usefixtures("many_device_logins")]


def _fill_and_refresh(project: Project, member: Membership, first: datetime, second: datetime) -> tuple[str, str]:
    """Two buckets written through a real key, the usage refreshed from Ceph at ``first``, one
    object removed and a larger one added, refreshed again at ``second``; returns the buckets'
    names. What Ceph reports then is in EXPECTED (the names as "raw" and "out")."""
    issued = key_create(membership=member, hours=1, description="usage history")
    s3 = storage.s3_client(access_key=issued.key.access_key_id, secret_key=issued.secret)
    raw, out = f"raw-{project.number}", f"out-{project.number}"
    for name in (raw, out):
        s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=raw, Key="a", Body=b"a" * 250_000)
    s3.put_object(Bucket=raw, Key="b", Body=b"b" * 4_096)
    s3.put_object(Bucket=out, Key="c", Body=b"c" * 77_777)
    project_refresh_usage(project=project, now=first)
    s3.delete_object(Bucket=raw, Key="a")
    s3.put_object(Bucket=out, Key="d", Body=b"d" * 1_000_000)
    project_refresh_usage(project=project, now=second)
    return raw, out


# (bucket, refresh) -> (bytes, objects): None is the project as a whole.
EXPECTED = {
    (None, 1): (250_000 + 4_096 + 77_777, 3),
    (None, 2): (4_096 + 1_077_777, 3),
    ("out", 1): (77_777, 1),
    ("out", 2): (1_077_777, 2),
    ("raw", 1): (254_096, 2),
    ("raw", 2): (4_096, 1),
}


def _utc(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")  # as the API writes times


@pytest.mark.django_db
def test_the_api_gives_the_points_ceph_reported_over_the_range_asked(project: Project, member_of) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now().replace(microsecond=0)
    member = member_of(project)
    reader = member_of(project, Role.READ_ONLY, "reader")
    # Before anything is written: a point on the 7-day range's edge (out of it) and one a minute inside.
    edge, inside = now - timedelta(days=7), now - timedelta(days=7) + timedelta(minutes=1)
    key_create(membership=member, hours=1, description="provisions the tenant")
    project_refresh_usage(project=project, now=edge)
    project_refresh_usage(project=project, now=inside)
    first, second = now - timedelta(hours=2), now - timedelta(hours=1)
    raw, out = _fill_and_refresh(project, member, first, second)
    names = {None: None, "raw": raw, "out": out}
    expected = [
        {"time": _utc(at), "bucket": names[b], "bytes": figures[0], "objects": figures[1]}
        for b in (None, "out", "raw")
        for n, at in ((1, first), (2, second))
        for figures in [EXPECTED[(b, n)]]
    ]
    empty = {"bucket": None, "bytes": 0, "objects": 0}
    base = f"projects/{project.number}/usage/"

    with time_machine.travel(now, tick=False):
        api = Api(device_token(reader.user))  # a read-only member reads it
        week = api("GET", base + "?range=7d")
        assert week.status_code == 200, week.content
        assert week.json() == {
            "project": project.number,
            "range": "7d",
            "start": _utc(now - timedelta(days=7)),
            "end": _utc(now),
            "quota_bytes": project.quota_bytes,
            "points": [{"time": _utc(inside), **empty}, *expected],
        }
        month = api("GET", base).json()  # the default range, 30 days, holds the edge point too
        assert month["range"] == "30d" and month["start"] == _utc(now - timedelta(days=30))
        assert month["points"] == [{"time": _utc(edge), **empty}, {"time": _utc(inside), **empty}, *expected]
        # The same points as the web page's CSV, in the same order.
        page = client_for(member.user).get(reverse("projects:usage_csv", args=[project.number]), {"range": "7d"})
        rows = list(csv.reader(io.StringIO(b"".join(page.streaming_content).decode())))[1:]
        assert [[r[0], None if r[1] == "(project)" else r[1], int(r[2]), int(r[3])] for r in rows] == [
            [datetime.fromisoformat(p["time"]).isoformat(), p["bucket"], p["bytes"], p["objects"]]
            for p in week.json()["points"]
        ]


@pytest.mark.django_db
def test_an_unknown_range_is_a_400_naming_it_and_outsiders_get_404(project: Project, cast) -> None:  # type: ignore[no-untyped-def]
    base = f"projects/{project.number}/usage/"
    member = Api(device_token(cast["member"]))
    for asked in ("all", "7D", "30"):
        refused = member("GET", f"{base}?range={asked}")
        assert refused.status_code == 400
        assert refused.json() == {"errors": {"range": ["must be one of 7d, 30d, 1y"]}}
    assert member("GET", f"{base}?range=1y").json()["points"] == []  # nothing refreshed yet
    assert member("GET", "projects/99999999/usage/").json() == {"detail": "No such project"}
    outsider = Api(device_token(cast["outsider"]))("GET", base)
    assert outsider.status_code == 404 and outsider.json() == {"detail": "No such project"}
    assert Api(None)("GET", base).status_code == 401
