"""The usage chart's geometry and words (usage/chart.py), under fixed times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from usage.chart import HEIGHT, LEFT, RIGHT, TOP, WIDTH, human, usage_chart
from usage.selectors import RANGES, Point, gap_for

END = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
GB = 10**9


def _points(*pairs: tuple[float, int]) -> list[Point]:
    """(hours before END, bytes) pairs as points, oldest first."""
    return [Point(END - timedelta(hours=h), size, size // 1000) for h, size in sorted(pairs, reverse=True)]


def _chart(series, labels, *, quota=None, span=timedelta(days=7), gap=timedelta(hours=3), row=timedelta(days=1)):  # type: ignore[no-untyped-def]
    return usage_chart(series, labels, start=END - span, end=END, quota=quota, gap=gap, row=row)


def test_human_sizes_are_decimal_with_three_figures() -> None:
    assert [human(n) for n in (0, 999, 1000, 1_234_567, 12 * GB, 2.5 * 10**12)] == [
        "0 B",
        "999 B",
        "1 kB",
        "1.23 MB",
        "12 GB",
        "2.5 TB",
    ]
    # What rounds up to 1000 of a unit is one of the next; past the largest unit, whole numbers.
    assert [human(n) for n in (999_499, 999_500, 999.7 * GB, 5 * 10**18)] == ["999 kB", "1 MB", "1 TB", "5,000 PB"]


def test_no_points_no_chart() -> None:
    assert _chart({}, {"": "Project"}) is None
    assert _chart({"": [], "raw": []}, {"": "Project", "raw": "raw"}) is None


def test_points_map_to_the_plot_and_the_quota_is_drawn() -> None:
    chart = _chart({"": _points((168, 0), (0, 4 * GB))}, {"": "Project"}, quota=10 * GB, gap=timedelta(days=8))
    assert chart is not None
    # Oldest at the left edge and at zero; the newest at the right edge; the axis tops at the quota.
    assert chart.lines[0].path == f"M{LEFT:.1f} {TOP + 220:.1f} L{WIDTH - RIGHT:.1f} {TOP + 220 * 0.6:.1f}"
    assert chart.quota_y == TOP and chart.quota_note == ""
    assert [t.label for t in chart.y_ticks] == ["0 B", "2.5 GB", "5 GB", "7.5 GB", "10 GB"]
    assert chart.y_ticks[0].pos == TOP + 220 and chart.y_ticks[-1].pos == TOP
    assert chart.height == HEIGHT
    assert chart.summary == (
        "Project: 4 GB on 2026-12-03 12:00 UTC, 40 % of the 10 GB quota; 0 B on 2026-11-26 12:00 UTC, the "
        "first point in this range; highest 4 GB on 2026-12-03 12:00 UTC."
    )


def test_a_quota_far_above_the_lines_is_named_not_drawn() -> None:
    chart = _chart({"": _points((10, GB), (0, GB))}, {"": "Project"}, quota=100 * GB)
    assert chart is not None
    assert chart.quota_y is None
    assert chart.quota_note == "The quota, 100 GB, is above the chart."
    assert chart.y_ticks[-1].label == "1 GB"  # scaled to the data, which fills the height


def test_points_further_apart_than_the_gap_are_not_joined_and_a_lone_point_is_a_dot() -> None:
    chart = _chart({"": _points((100, GB), (99, GB), (50, 2 * GB), (2, GB), (1, GB))}, {"": "Project"})
    assert chart is not None
    path = chart.lines[0].path
    assert path.count("M") == 3 and path.count("L") == 2
    assert "l0 0" in path.split("M")[2]  # the point at 50 h stands alone


def test_lines_keep_the_given_order_and_skip_series_without_points() -> None:
    series = {"": _points((5, 3 * GB), (1, 3 * GB)), "raw": _points((5, 2 * GB), (1, 2 * GB)), "empty": []}
    chart = _chart(series, {"": "Project", "raw": "raw", "empty": "empty", "gone": "gone"})
    assert chart is not None
    assert [(line.name, line.style) for line in chart.lines] == [("", 0), ("raw", 1)]
    assert chart.summary.endswith("Largest buckets: raw 2 GB.")


def test_table_rows_hold_each_days_highest_figure_per_line_in_the_page_zone() -> None:
    series = {
        "": _points((30, GB), (26, 3 * GB), (2, 2 * GB)),
        "raw": _points((2, GB)),
    }
    # In UTC+9, 12:00 UTC on Dec 3 is 21:00 local; 30 h and 26 h before fall on Dec 2 local.
    tokyo = ZoneInfo("Asia/Tokyo")
    chart = usage_chart(
        series,
        {"": "Project", "raw": "raw"},
        start=END - timedelta(days=7),
        end=END,
        quota=None,
        gap=timedelta(hours=3),
        row=timedelta(days=1),
        zone=tokyo,
    )
    assert chart is not None
    assert [(r.at.strftime("%m-%d"), r.cells) for r in chart.rows] == [
        ("12-02", ("3 GB", "")),
        ("12-03", ("2 GB", "1 GB")),
    ]
    assert chart.row_label == "Day"


def test_weekly_rows_start_on_monday() -> None:
    series = {"": _points((24 * 10, GB), (24 * 9, 2 * GB), (1, GB))}  # Nov 23 (Mon), Nov 24 (Tue), Dec 3 (Thu)
    chart = _chart(series, {"": "Project"}, span=timedelta(days=365), gap=timedelta(days=3), row=timedelta(days=7))
    assert chart is not None
    assert [(r.at.strftime("%m-%d"), r.cells) for r in chart.rows] == [("11-23", ("2 GB",)), ("11-30", ("1 GB",))]
    assert chart.row_label == "Week of"


def test_ticks_follow_the_range() -> None:
    series = {"": _points((1, GB))}
    week = _chart(series, {"": "Project"})
    month = _chart(series, {"": "Project"}, span=timedelta(days=30))
    year = _chart(series, {"": "Project"}, span=timedelta(days=365))
    assert week is not None and month is not None and year is not None
    assert [t.label for t in week.x_ticks] == ["Fri 27", "Sat 28", "Sun 29", "Mon 30", "Tue 1", "Wed 2", "Thu 3"]
    assert [t.label for t in month.x_ticks] == ["9 Nov", "16 Nov", "23 Nov", "30 Nov"]  # Mondays
    assert [t.label for t in year.x_ticks][:2] == ["2026", "Feb"] and year.x_ticks[-1].label == "Dec"
    assert all(LEFT <= t.pos <= WIDTH - RIGHT for t in week.x_ticks + month.x_ticks + year.x_ticks)


def test_the_gap_follows_the_thinning_inside_the_range() -> None:
    keep = [(2 * 86400, 0), (30 * 86400, 3600), (730 * 86400, 86400)]
    assert gap_for(RANGES["7d"], keep) == timedelta(hours=2.5)  # hourly points, hourly bins
    assert gap_for(RANGES["30d"], keep) == timedelta(hours=15)  # six-hour bins
    assert gap_for(RANGES["1y"], keep) == timedelta(days=2.5)  # daily points
    assert gap_for(RANGES["7d"], [(86400, 0), (30 * 86400, 86400)]) == timedelta(days=2.5)
