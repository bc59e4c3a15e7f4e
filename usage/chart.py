"""A usage chart as geometry: each series a line of its stored points over the chosen range, the
quota a line across, with axes, a summary sentence and the rows of a data table. Pure: points,
times and the quota come in, numbers in SVG viewBox units and words come out; the template
draws them (no client-side chart code, nothing from a CDN)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from portal.units import human_size as human
from usage.selectors import Point

WIDTH = 600  # viewBox units; the SVG scales with its box
LEFT = 100  # the value labels (at the phone's larger text too)
RIGHT = 14
TOP = 14
PLOT = 220
AXIS = 30
HEIGHT = TOP + PLOT + AXIS
OFF_SCALE = 5  # a quota over five times the highest figure is named, not drawn (it would flatten the lines)


@dataclass(frozen=True)
class Line:
    name: str  # the bucket; "" for the project as a whole
    label: str
    style: int  # the CSS class uc-s<style>: colour and dash, so no line is told by colour alone
    path: str  # SVG path data; a gap in the points breaks the line
    first: Point
    last: Point
    peak: Point


@dataclass(frozen=True)
class Tick:
    pos: float
    label: str


@dataclass(frozen=True)
class Row:
    at: datetime  # the row's first day
    cells: tuple[str, ...]  # one per line, "" where it has no point


@dataclass(frozen=True)
class Chart:
    start: datetime
    end: datetime
    lines: tuple[Line, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    quota: int | None
    quota_y: float | None  # None: no quota, or one far above the lines (quota_note says so)
    quota_note: str
    summary: str
    rows: tuple[Row, ...]
    row_label: str  # "Day" or "Week of"
    # One point per line at most: a dot in an empty frame says nothing, so the page says so in words.
    too_few: bool = False

    width = WIDTH
    height = HEIGHT
    plot_left = LEFT
    plot_right = WIDTH - RIGHT
    plot_top = TOP
    plot_bottom = TOP + PLOT
    tick_label_y = HEIGHT - 8
    value_label_x = LEFT - 6


def _nice_step(top: float) -> float:
    rough = top / 4
    power = 10 ** math.floor(math.log10(rough))
    for nice in (1, 2, 2.5, 5, 10):
        if nice * power >= rough:
            return nice * power
    return 10 * power  # pragma: no cover - the loop ends at 10


def _scale(highest: int, quota: int | None) -> tuple[float, int | None]:
    """The top of the value axis, and the quota if it is drawn within it."""
    drawn = quota if quota and highest * OFF_SCALE >= quota else None
    top = max(highest, drawn or 0, 1000)  # an empty project still gets an axis (0 to 1 kB)
    step = _nice_step(top)
    return step * math.ceil(top / step), drawn


def _x_ticks(start: datetime, end: datetime, zone: tzinfo, x: Callable[[datetime], float]) -> tuple[Tick, ...]:
    span = end - start
    local = start.astimezone(zone)
    at = local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    ticks = []
    while at <= end:
        if span <= timedelta(days=8):
            ticks.append(Tick(x(at), f"{at:%a} {at.day}"))
        elif span <= timedelta(days=40):
            if at.weekday() == 0:
                ticks.append(Tick(x(at), f"{at.day} {at:%b}"))
        elif at.day == 1:
            ticks.append(Tick(x(at), str(at.year) if at.month == 1 else f"{at:%b}"))  # the year in January's place
        at = (at + timedelta(days=1)).astimezone(zone).replace(hour=0)
    return tuple(ticks)


def _path(points: Sequence[Point], gap: timedelta, x: Callable[[datetime], float], y: Callable[[float], float]) -> str:
    parts = []
    for i, p in enumerate(points):
        move = i == 0 or p.at - points[i - 1].at > gap
        # A lone point is a zero-length segment: the round line cap draws it as a dot.
        parts.append(f"M{x(p.at)} {y(p.size_bytes)}" if move else f"L{x(p.at)} {y(p.size_bytes)}")
        if move and (i + 1 == len(points) or points[i + 1].at - p.at > gap):
            parts.append("l0 0")
    return " ".join(parts)


def _rows(
    lines: Sequence[Line], series: Mapping[str, Sequence[Point]], row: timedelta, zone: tzinfo
) -> tuple[Row, ...]:
    def row_of(at: datetime) -> datetime:
        day = at.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
        return day - timedelta(days=day.weekday()) if row >= timedelta(days=7) else day

    highest: dict[datetime, dict[str, int]] = {}
    for line in lines:
        for p in series[line.name]:
            cell = highest.setdefault(row_of(p.at), {})
            cell[line.name] = max(cell.get(line.name, 0), p.size_bytes)
    return tuple(
        Row(at, tuple(human(cells[line.name]) if line.name in cells else "" for line in lines))
        for at, cells in sorted(highest.items())
    )


def _summary(lines: Sequence[Line], quota: int | None, zone: tzinfo) -> str:
    def when(at: datetime) -> str:
        return at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")

    main = lines[0]
    text = f"{main.label}: {human(main.last.size_bytes)} on {when(main.last.at)}"
    if quota:
        text += f", {100 * main.last.size_bytes / quota:.0f} % of the {human(quota)} quota"
    text += f"; {human(main.first.size_bytes)} on {when(main.first.at)}, the first point in this range"
    text += f"; highest {human(main.peak.size_bytes)} on {when(main.peak.at)}."
    if len(lines) > 1:
        text += " Largest buckets: " + ", ".join(f"{ln.label} {human(ln.last.size_bytes)}" for ln in lines[1:]) + "."
    return text


def usage_chart(
    series: Mapping[str, Sequence[Point]],
    labels: Mapping[str, str],
    *,
    start: datetime,
    end: datetime,
    quota: int | None,
    gap: timedelta,
    row: timedelta,
    zone: tzinfo = UTC,
) -> Chart | None:
    """The chart of the series named in ``labels`` (in that order; the first is the main one)
    that have points; None when none has. Consecutive points further apart than ``gap`` are not
    joined (refreshes failed, or nothing was measured)."""
    names = [name for name in labels if series.get(name)]
    if not names:
        return None
    highest = max(p.size_bytes for name in names for p in series[name])
    top, drawn_quota = _scale(highest, quota)
    span = (end - start).total_seconds() or 1.0

    def x(at: datetime) -> float:
        return round(LEFT + (WIDTH - LEFT - RIGHT) * (at - start).total_seconds() / span, 2)

    def y(size: float) -> float:
        return round(TOP + PLOT * (1 - size / top), 2)

    lines = tuple(
        Line(
            name=name,
            label=labels[name],
            style=i,
            path=_path(series[name], gap, x, y),
            first=series[name][0],
            last=series[name][-1],
            peak=max(series[name], key=lambda p: (p.size_bytes, p.at)),
        )
        for i, name in enumerate(names)
    )
    step = _nice_step(top)
    y_ticks = tuple(Tick(y(step * i), human(step * i)) for i in range(round(top / step) + 1))
    note = ""
    if quota and drawn_quota is None:
        note = f"The quota, {human(quota)}, is above the chart."
    return Chart(
        start=start,
        end=end,
        lines=lines,
        x_ticks=_x_ticks(start, end, zone, x),
        y_ticks=y_ticks,
        quota=quota,
        quota_y=y(drawn_quota) if drawn_quota else None,
        quota_note=note,
        summary=_summary(lines, quota, zone),
        rows=_rows(lines, series, row, zone),
        row_label="Week of" if row >= timedelta(days=7) else "Day",
        too_few=all(len(series[name]) < 2 for name in names),
    )
