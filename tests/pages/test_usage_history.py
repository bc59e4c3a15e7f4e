"""Usage history kept in the database: pruning under a controlled clock, the charts on the project
and bucket pages, and the CSV of the points. (Points against real Ceph figures:
tests/ceph/test_usage_points.py.)"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from buckets.models import Bucket
from heartbeats.models import Heartbeat
from projects.models import Project
from tests.support.web import client_for
from usage.models import ORIGIN, TOTAL, UsagePoint
from usage.selectors import series_of
from usage.services import PRUNE, Figures, usage_prune, usage_prune_run, usage_record

pytestmark = [pytest.mark.django_db]

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
KEEP = [(2 * 86400, 0), (30 * 86400, 3600), (730 * 86400, 86400)]  # the default bands
GB = 10**9


def _add(project: Project, bucket: str, times: list[datetime], size: int = GB) -> None:
    UsagePoint.objects.bulk_create(
        UsagePoint(project=project, bucket=bucket, at=at, size_bytes=size, object_count=size // 10**6) for at in times
    )


def _every(step: timedelta, start: datetime, end: datetime) -> list[datetime]:
    times, at = [], start
    while at < end:
        times.append(at)
        at += step
    return times


def _times(project: Project, bucket: str = TOTAL) -> list[datetime]:
    return list(UsagePoint.objects.filter(project=project, bucket=bucket).order_by("at").values_list("at", flat=True))


def test_pruning_thins_each_age_band_and_drops_the_oldest(project: Project) -> None:
    # Ten-minute refreshes for three years up to NOW, for the project and one bucket.
    times = _every(timedelta(minutes=10), NOW - timedelta(days=3 * 365), NOW + timedelta(seconds=1))
    for bucket in (TOTAL, "raw"):
        _add(project, bucket, times)
    result = usage_prune(now=NOW, keep=KEEP)
    kept = _times(project)
    assert kept == _times(project, "raw")  # each series on its own, the same way
    young = [t for t in kept if t >= NOW - timedelta(days=2)]
    hourly = [t for t in kept if NOW - timedelta(days=30) <= t < NOW - timedelta(days=2)]
    daily = [t for t in kept if t < NOW - timedelta(days=30)]
    assert len(young) == 2 * 144 + 1  # every point of the last two days, NOW included
    assert len(hourly) == 28 * 24 and all(t.minute == 0 for t in hourly)  # the first of each hour
    # The first of each day, and the first of the band's partial first day (it starts at noon).
    assert daily[0] == NOW - timedelta(days=730)
    assert len(daily) == 1 + 730 - 30 and all((t.hour, t.minute) == (0, 0) for t in daily[1:])
    assert result["expired"] == 2 * len([t for t in times if t < NOW - timedelta(days=730)])
    assert result["thinned"] + result["expired"] + 2 * len(kept) == 2 * len(times)
    assert usage_prune(now=NOW, keep=KEEP) == {"thinned": 0, "expired": 0}  # nothing more to do


def test_a_later_run_that_looks_only_at_new_points_keeps_the_same_as_a_full_run(project: Project, unique) -> None:  # type: ignore[no-untyped-def]
    other = Project.objects.create(number=unique(), title="whole", tenant="tw")
    start = NOW - timedelta(days=40)
    times = _every(timedelta(minutes=7), start, NOW)  # steps that straddle hour and day boundaries
    _add(project, TOTAL, times)
    _add(other, TOTAL, times)
    usage_prune(now=NOW - timedelta(days=1, minutes=13), keep=KEEP)
    usage_prune(now=NOW, keep=KEEP, previous=NOW - timedelta(days=1, minutes=13))  # only what aged since
    # The narrowed run left nothing that a run over every band would still remove ...
    assert usage_prune(now=NOW, keep=KEEP) == {"thinned": 0, "expired": 0}
    usage_prune(now=NOW, keep=KEEP)
    usage_prune(now=NOW, keep=KEEP)  # ... and kept what a single whole run keeps
    assert _times(project) == _times(other) != []


def test_a_narrowed_run_looks_only_at_the_points_that_aged_since_the_last(project: Project) -> None:
    _add(project, TOTAL, _every(timedelta(minutes=10), NOW - timedelta(days=10), NOW))
    usage_prune(now=NOW, keep=KEEP)
    # A stray second point in an hour thinned long ago: outside what the next run looks at.
    stray = NOW - timedelta(days=6, minutes=-30)
    _add(project, TOTAL, [stray])
    later = NOW + timedelta(hours=1)
    assert usage_prune(now=later, keep=KEEP, previous=NOW)["thinned"] == 5  # the hour that aged
    assert stray in _times(project)
    assert usage_prune(now=later, keep=KEEP)["thinned"] == 1  # a whole run finds it
    assert stray not in _times(project)


def test_a_refresh_within_a_minute_of_the_last_point_keeps_none(project: Project) -> None:
    figures = [Figures("raw", 5, 1)]
    assert usage_record(project=project, at=NOW, total=(5, 1), buckets=figures) == 2
    assert usage_record(project=project, at=NOW + timedelta(seconds=59), total=(6, 1), buckets=figures) == 0
    assert usage_record(project=project, at=NOW + timedelta(seconds=60), total=(7, 1), buckets=figures) == 2
    assert [p.size_bytes for p in UsagePoint.objects.filter(project=project, bucket=TOTAL).order_by("at")] == [5, 7]


def test_the_python_fallbacks_for_sqlite_give_what_postgresql_gives(project: Project, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Development runs on SQLite, which has no date_bin: the same binning and thinning in Python
    (tests/processes/test_sqlite_dev.py runs them on SQLite itself)."""
    for bucket in (TOTAL, "raw"):
        _add(project, bucket, _every(timedelta(minutes=7), NOW - timedelta(days=45), NOW))
    origins = (ORIGIN, datetime(2000, 1, 1, tzinfo=ZoneInfo("Asia/Tokyo")))
    span = {"start": NOW - timedelta(days=30), "end": NOW, "bin": timedelta(hours=6)}
    native = [series_of(project.pk, [TOTAL, "raw"], **span, origin=origin) for origin in origins]  # type: ignore[arg-type]
    # Six-hour bins from UTC midnight fit the range; from Tokyo's (15:00 UTC) one is cut at each end.
    assert (len(native[0][TOTAL]), len(native[1][TOTAL])) == (120, 121)
    with transaction.atomic():  # prune natively, note what is left, and undo it
        thinned = usage_prune(now=NOW, keep=KEEP)
        kept = (_times(project), _times(project, "raw"))
        transaction.set_rollback(True)
    with monkeypatch.context() as patched:
        patched.setattr(connection, "vendor", "sqlite")
        assert [series_of(project.pk, [TOTAL, "raw"], **span, origin=origin) for origin in origins] == native  # type: ignore[arg-type]
        assert usage_prune(now=NOW, keep=KEEP) == thinned
    assert (_times(project), _times(project, "raw")) == kept


def test_the_periodic_prune_resumes_where_it_left_and_starts_over_when_the_bands_change(project: Project) -> None:
    _add(project, TOTAL, _every(timedelta(minutes=10), NOW - timedelta(days=5), NOW))
    first = usage_prune_run(now=NOW, keep=KEEP)
    assert first["thinned"] == 3 * 24 * 5  # three days past the first band: five of six points an hour
    beat = Heartbeat.objects.get(name=PRUNE)
    assert beat.completed_at == NOW and beat.summary["keep"] == [list(band) for band in KEEP]
    # One day later, with the bands unchanged: only that day's points move into the hourly band.
    assert usage_prune_run(now=NOW + timedelta(days=1), keep=KEEP)["thinned"] == 24 * 5
    # The operator keeps everything for one day only, then daily points: the whole table is looked at.
    assert usage_prune_run(now=NOW + timedelta(days=1), keep=[(86400, 0), (730 * 86400, 86400)])["thinned"] > 0
    # No point is younger than a day now; then the first of each day (the first day from noon).
    assert len(_times(project)) == 6


# --- pages ---


@pytest.fixture
def history(project: Project) -> Iterator[Project]:
    """A project with 40 days of hourly points growing to 6 GB, three buckets and a 10 GB quota."""
    Project.objects.filter(pk=project.pk).update(quota_bytes=10 * GB, usage_bytes=6 * GB, usage_at=NOW)
    project.refresh_from_db()
    for name, size in (("raw", 4 * GB), ("results", GB), ("tiny", 10)):
        Bucket.objects.create(project=project, name=name, size_bytes=size, object_count=3)
    times = _every(timedelta(hours=1), NOW - timedelta(days=40), NOW + timedelta(seconds=1))
    UsagePoint.objects.bulk_create(
        UsagePoint(project=project, bucket=b, at=at, size_bytes=int(top * (i + 1) / len(times)), object_count=i)
        for b, top in ((TOTAL, 6 * GB), ("raw", 4 * GB), ("results", GB), ("tiny", 10))
        for i, at in enumerate(times)
    )
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        yield project


def _figure(page: str) -> str:
    found = re.search(r'<figure class="usage-chart">.*?</figure>', page, re.S)
    return found.group(0) if found else ""


def test_the_project_page_charts_the_project_and_its_largest_buckets_against_the_quota(
    history: Project, cast, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.LATCHKEY_USAGE_CHART_BUCKETS = 2
    page = client_for(cast["read-only"]).get(reverse("projects:detail", args=[history.number])).content.decode()
    figure = _figure(page)
    assert '<title id="uc-title">Usage of the project over 30 days</title>' in figure
    assert re.findall(r'<path class="uc-line uc-s(\d)" d="M[^"]+"><title>([^<]+)</title>', figure) == [
        ("0", "Project"),
        ("1", "raw"),
        ("2", "results"),
    ]
    assert 'class="uc-quota"' in figure
    assert "Project: 6 GB on 2026-12-03 12:00 UTC, 60 % of the 10 GB quota" in figure  # the desc
    assert "Largest buckets: raw 4 GB, results 1 GB." in figure
    # The table: a row a day of the 30 days (the first day partly), the highest figure of each.
    rows = re.findall(r'<tr><th scope="row">([\d-]+)</th>(.*?)</tr>', figure)
    assert len(rows) == 31 and rows[-1][0] == "2026-12-03"
    assert re.findall(r"<td>([^<]+)</td>", rows[-1][1]) == ["6 GB", "4 GB", "1 GB"]
    assert '<a aria-current="page" href="?range=30d#usage-history">30 days</a>' in page
    assert f'href="/projects/{history.number}/usage.csv?range=30d"' in figure


def test_the_range_is_chosen_on_the_page_and_an_unknown_one_is_named(history: Project, cast) -> None:  # type: ignore[no-untyped-def]
    client = client_for(cast["member"])
    url = reverse("projects:detail", args=[history.number])
    week = _figure(client.get(url, {"range": "7d"}).content.decode())
    assert "over 7 days" in week and len(re.findall(r'<th scope="row">', week)) == 8
    year = client.get(url, {"range": "1y"}).content.decode()
    assert "over 1 year" in year and "Week of" in year
    odd = client.get(url, {"range": "<b>2w</b>"})
    assert odd.status_code == 200
    assert "There is no range &#x27;&lt;b&gt;2w&lt;/b&gt;&#x27;; showing 30 days." in odd.content.decode()


def test_no_points_in_the_range_says_so(project: Project, cast) -> None:  # type: ignore[no-untyped-def]
    _add(project, TOTAL, [NOW - timedelta(days=100)], size=200_000)
    client, url = client_for(cast["member"]), reverse("projects:detail", args=[project.number])
    with time_machine.travel(NOW, tick=False):
        page = client.get(url).content.decode()
        assert 'class="usage-chart"' not in page
        assert "No usage recorded in the last 30 days." in page
        # One point is no chart (a lone dot in an empty frame): the page says what it knows.
        year = client.get(url, {"range": "1y"}).content.decode()
        assert 'class="usage-chart"' not in year
        assert "Not enough history to chart over 1 year yet" in year
        assert "Latest: Project 200 kB in 0 objects, on" in year
        _add(project, TOTAL, [NOW - timedelta(days=99)], size=300_000)
        year = client.get(url, {"range": "1y"}).content.decode()
        assert 'class="usage-chart"' in year and "Not enough history" not in year


def test_the_bucket_page_charts_that_bucket_alone(history: Project, cast) -> None:  # type: ignore[no-untyped-def]
    page = client_for(cast["member"]).get(reverse("buckets:detail", args=[history.number, "raw"])).content.decode()
    figure = _figure(page)
    assert "Usage of bucket raw over 30 days" in figure
    assert re.findall(r'<path class="uc-line uc-s\d" d="M[^"]+"><title>([^<]+)</title>', figure) == ["raw"]
    assert 'class="uc-quota"' not in figure  # buckets have no quota of their own
    assert f'href="/projects/{history.number}/buckets/raw/usage.csv?range=30d"' in figure


def test_the_chart_reads_the_same_number_of_queries_however_many_points_and_buckets(history: Project, cast) -> None:  # type: ignore[no-untyped-def]
    def queries() -> int:
        client = client_for(cast["manager"])
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("projects:detail", args=[history.number]), {"range": "1y"}).status_code == 200
        return len(captured)

    before = queries()
    for i in range(20):
        Bucket.objects.create(project=history, name=f"more-{i}", size_bytes=5 * GB + i, object_count=1)
        _add(history, f"more-{i}", _every(timedelta(hours=6), NOW - timedelta(days=300), NOW), size=5 * GB + i)
    assert queries() == before


def _rows(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_csv_has_every_point_of_the_range(history: Project, cast) -> None:  # type: ignore[no-untyped-def]
    response = client_for(cast["read-only"]).get(reverse("projects:usage_csv", args=[history.number]), {"range": "7d"})
    assert response["Content-Disposition"] == f'attachment; filename="latchkey-usage-{history.number}.csv"'
    rows = _rows(response)
    assert rows[0] == ["time", "bucket", "bytes", "objects"]
    assert len(rows) == 1 + 4 * 7 * 24  # four series, hourly
    assert rows[1][:2] == ["2026-11-26T13:00:00+00:00", "(project)"]
    assert rows[-1] == ["2026-12-03T12:00:00+00:00", "tiny", "10", str(40 * 24)]
    bucket = _rows(client_for(cast["member"]).get(reverse("buckets:usage_csv", args=[history.number, "raw"])))
    assert {row[1] for row in bucket[1:]} == {"raw"} and len(bucket) == 1 + 30 * 24


def test_the_csv_refuses_an_unknown_range_and_hides_other_projects(history: Project, cast) -> None:  # type: ignore[no-untyped-def]
    response = client_for(cast["member"]).get(reverse("projects:usage_csv", args=[history.number]), {"range": "all"})
    assert response.status_code == 400
    assert response.content.decode() == "range: must be one of 7d, 30d, 1y\n"
    assert client_for(cast["outsider"]).get(reverse("projects:usage_csv", args=[history.number])).status_code == 404
    missing = client_for(cast["member"]).get(reverse("buckets:usage_csv", args=[history.number, "nope"]))
    assert missing.status_code == 404
