"""Reading usage points: a chart's series (binned in SQL, so a page reads a few hundred rows
however many points two years hold) and the raw points of a range, for the CSV and the API."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from django.db import connection

from portal.errors import Refused
from usage.models import ORIGIN, UsagePoint, interval_start


@dataclass(frozen=True)
class Range:
    key: str  # as in the URL: ?range=30d
    label: str
    span: timedelta
    bin: timedelta  # one chart point per bin: the highest figure in it, at its latest time
    row: timedelta  # one row of the data table
    bin_label: str


RANGES = {
    r.key: r
    for r in (
        Range("7d", "7 days", timedelta(days=7), timedelta(hours=1), timedelta(days=1), "hour"),
        Range("30d", "30 days", timedelta(days=30), timedelta(hours=6), timedelta(days=1), "six hours"),
        Range("1y", "1 year", timedelta(days=365), timedelta(days=1), timedelta(days=7), "day"),
    )
}
DEFAULT_RANGE = RANGES["30d"]


class UnknownRange(Refused):
    """A ``range`` that names none of RANGES: the CSV and the API refuse it (400) rather than
    answer another range's points, which a script would take for the one it asked."""

    def __init__(self) -> None:
        super().__init__(f"must be one of {', '.join(RANGES)}", field="range")


def range_named(key: str | None) -> Range:
    """The range ``key`` names; the default when there is none, UnknownRange for any other."""
    chosen = RANGES.get(key or DEFAULT_RANGE.key)
    if chosen is None:
        raise UnknownRange()
    return chosen


class Point(NamedTuple):
    at: datetime
    size_bytes: int
    object_count: int


_SERIES = """
SELECT bucket, EXTRACT(EPOCH FROM MAX(at))::float8, MAX(size_bytes), MAX(object_count)
FROM usage_usagepoint
WHERE project_id = %(project)s AND bucket = ANY(%(buckets)s) AND at > %(start)s AND at <= %(end)s
GROUP BY bucket, date_bin(%(bin)s, at, %(origin)s)
ORDER BY 1, 2
"""


def series_of(
    project_id: int,
    buckets: Sequence[str],
    *,
    start: datetime,
    end: datetime,
    bin: timedelta,
    origin: datetime = ORIGIN,
) -> dict[str, list[Point]]:
    """For each name in ``buckets`` (TOTAL: the project) with points in (start, end], one point
    per ``bin`` (counted from ``origin``: a local midnight puts whole days in the page's zone):
    the highest figures in it, placed at its latest point's time. One query, raw: the times come
    as epoch seconds, because Django's time-zone-aware timestamptz loader and its per-value
    converters cost more than the query itself on a year of six series (bench/usage_chart.py)."""
    if connection.vendor != "postgresql":
        return _series_in_python(project_id, buckets, start=start, end=end, bin=bin, origin=origin)
    params: dict[str, Any] = {
        "project": project_id,
        "buckets": list(buckets),
        "start": start,
        "end": end,
        "bin": bin,
        "origin": origin,
    }
    with connection.cursor() as cursor:
        cursor.execute(_SERIES, params)
        rows = cursor.fetchall()
    series: dict[str, list[Point]] = {}
    for bucket, last, size, count in rows:
        series.setdefault(bucket, []).append(Point(datetime.fromtimestamp(last, UTC), size, count))
    return series


def _series_in_python(
    project_id: int, buckets: Sequence[str], *, start: datetime, end: datetime, bin: timedelta, origin: datetime
) -> dict[str, list[Point]]:
    """series_of for SQLite in development (no date_bin): every point read, binned here."""
    highest: dict[tuple[str, datetime], Point] = {}
    points = UsagePoint.objects.filter(project_id=project_id, bucket__in=list(buckets), at__gt=start, at__lte=end)
    for bucket, at, size, count in points.values_list("bucket", "at", "size_bytes", "object_count"):
        slot = (bucket, interval_start(at, bin, origin))
        seen = highest.get(slot)
        if seen is not None:
            at, size, count = max(at, seen.at), max(size, seen.size_bytes), max(count, seen.object_count)
        highest[slot] = Point(at, size, count)
    series: dict[str, list[Point]] = {}
    for (bucket, _), point in sorted(highest.items()):
        series.setdefault(bucket, []).append(point)
    return series


def points_of(
    project_id: int, *, start: datetime, end: datetime, bucket: str | None = None
) -> Iterator[tuple[str, datetime, int, int]]:
    """Every stored point in (start, end] as (bucket, at, bytes, objects), by bucket (the
    project's own first), oldest first; only ``bucket``'s (TOTAL: the project's) when given."""
    points = UsagePoint.objects.filter(project_id=project_id, at__gt=start, at__lte=end)
    if bucket is not None:
        points = points.filter(bucket=bucket)
    return (
        points.order_by("bucket", "at")
        .values_list("bucket", "at", "size_bytes", "object_count")
        .iterator(chunk_size=5000)
    )


@dataclass(frozen=True)
class History:
    range: Range
    start: datetime
    end: datetime
    points: Iterator[tuple[str, datetime, int, int]]  # as points_of gives them, read when iterated


def history_of(project_id: int, range_key: str | None, *, now: datetime, bucket: str | None = None) -> History:
    """Every stored point of the range ``range_key`` names, up to ``now``: the one reading behind
    the CSV download and the API, so both answer the same points for the same range."""
    chosen = range_named(range_key)
    start = now - chosen.span
    return History(chosen, start, now, points_of(project_id, start=start, end=now, bucket=bucket))


def gap_for(chosen: Range, keep: Sequence[tuple[int, int]]) -> timedelta:
    """How far apart two points may be and still be joined by a line: a few of the widest of the
    chart's bin and the thinning steps that apply inside the range; wider means missed refreshes."""
    widest, younger = chosen.bin, timedelta(0)
    for age, step in keep:
        if younger < chosen.span:
            widest = max(widest, timedelta(seconds=step))
        younger = timedelta(seconds=age)
    return widest * 2.5
