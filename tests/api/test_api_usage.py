"""Usage history through the API and `latchkey usage`, from real figures: objects of known sizes
written into real buckets in Ceph, the usage refresh asking Ceph for them, then the API's points,
the CLI's table and its CSV (the web page's, cell for cell) showing exactly those numbers. The
range is cut under a frozen clock; the table's local times under a fixed TZ."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from buckets.inventory import project_refresh_usage
from lifecycle.keys import key_create
from projects.models import Membership, Project, Role
from storage import client as storage
from tests.support.api import Api, device_token
from tests.support.cli import LATCHKEY, approve_in_django, cli_run
from tests.support.web import client_for

pytestmark = [pytest.mark.ceph, pytest.mark.usefixtures("many_device_logins")]
ZONE = "Asia/Kolkata"  # +05:30: a local time that no whole-hour slip could produce


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
        # One bucket's points, as its page's CSV has them; a name the project has no bucket by: 404.
        one = api("GET", base + f"?range=7d&bucket={out}").json()["points"]
        assert one == [p for p in expected if p["bucket"] == out]
        assert api("GET", base + "?bucket=elsewhere").json() == {"detail": "No such bucket"}
        empty = api("GET", base + "?bucket=")
        assert empty.status_code == 400 and list(empty.json()["errors"]) == ["bucket"]


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


@pytest.mark.django_db(transaction=True)
def test_latchkey_usage_shows_the_real_figures_as_a_table_and_as_the_web_csv(  # type: ignore[no-untyped-def]
    live_server, tmp_path: Path, unique: Callable[[], str]
) -> None:
    project = Project.objects.create(number=unique(), title="Usage", tenant=f"use{unique()}")
    member = Membership.objects.create(user=User.objects.create_user(username="writer"), project=project)
    reader = User.objects.create_user(username="reader")
    Membership.objects.create(user=reader, project=project, role=Role.READ_ONLY)
    now = timezone.now().replace(microsecond=0)
    first, second = now - timedelta(hours=2), now - timedelta(hours=1)
    raw, out = _fill_and_refresh(project, member, first, second)
    connections.close_all()
    home = tmp_path / "home"
    assert approve_in_django(live_server.url, home, reader, "confirm").returncode == 0

    def run(*args: str, check: bool = True) -> Any:
        return cli_run(home, "env", f"TZ={ZONE}", LATCHKEY, "usage", *args, check=check)

    table = run("-p", project.number, "--range", "7d").stdout.splitlines()
    assert table[0] == f"Project {project.number}, the last 7 days: 6 points; latest 1.08 MB in 3 objects (no quota)."
    local = {at: at.astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%d %H:%M IST") for at in (first, second)}
    cells = [re.split(r"\s{2,}", line) for line in table[1:]]  # columns: two spaces or more apart
    assert [row[0] for row in cells] == ["TIME"] + [local[first], local[second]] * 3
    assert [row[1:] for row in cells[1:]] == [
        ["(project)", "332 kB", "3"],
        ["(project)", "1.08 MB", "3"],
        [out, "77.8 kB", "1"],
        [out, "1.08 MB", "2"],
        [raw, "254 kB", "2"],
        [raw, "4.1 kB", "1"],
    ]

    # --csv: the web page's CSV, cell for cell (times in UTC, bytes as numbers).
    printed = run("-p", project.number, "--range", "7d", "--csv").stdout
    web = client_for(reader).get(reverse("projects:usage_csv", args=[project.number]), {"range": "7d"})
    assert list(csv.reader(io.StringIO(printed))) == list(
        csv.reader(io.StringIO(b"".join(web.streaming_content).decode()))
    )
    assert printed.splitlines()[:2] == ["time,bucket,bytes,objects", f"{first.isoformat()},(project),331873,3"]

    only = run("-p", project.number, "--range", "7d", "--bucket", raw).stdout.splitlines()
    assert [re.split(r"\s{2,}", line)[1:] for line in only[2:]] == [[raw, "254 kB", "2"], [raw, "4.1 kB", "1"]]

    bad = run("-p", project.number, "--range", "all", check=False)
    assert (bad.returncode, bad.stdout, bad.stderr) == (1, "", "latchkey: range: must be one of 7d, 30d, 1y\n")
    missing = run("-p", "99999999", check=False)
    assert (missing.returncode, missing.stderr) == (1, "latchkey: No such project\n")
