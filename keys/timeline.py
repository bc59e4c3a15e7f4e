"""The key timeline on the project page, as geometry: each live key a bar from creation to expiry
on one time axis, with "now" and the expiry reminders marked, so a glance tells what ends during
a planned job. Pure: the keys, `now` and the reminder hours come in, numbers in SVG viewBox units
come out; the template draws them (no client-side chart code, nothing from a CDN)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

WIDTH = 600  # viewBox units; the SVG is drawn at 100 % of its box and scales with it
PAD = 44  # room either side for the first and last tick label (at the phone's larger text too)
ROW = 48  # one key: its label, then its bar and reminder markers
BAR = 14
LABEL = 20  # baseline of a row's label below the row's top (room for the phone's larger text)
AXIS = 30  # the tick labels under the last row
LOOKBACK = timedelta(days=7)  # older creations are cut off at the left edge
AHEAD = timedelta(hours=168)  # keys last at most this long, so nothing live ends later
MAX_TICKS = 8
STEPS_HOURS = (1, 3, 6, 12, 24, 48)


@dataclass(frozen=True)
class TimelineKey:
    access_key_id: str
    owner: str  # a display name
    description: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Reminder:
    hours: int
    at: datetime
    x: float


@dataclass(frozen=True)
class Bar:
    key: TimelineKey
    x: float
    width: float
    y: float  # the bar's top
    label_x: float  # above the bar's start, kept off the right edge so it is not cut
    label_y: float
    reminders: tuple[Reminder, ...]
    all_reminders: tuple[Reminder, ...]  # inside the key's life, drawn or not (the data table)

    @property
    def mid_y(self) -> float:
        return self.y + BAR / 2

    @property
    def bottom(self) -> float:
        return self.y + BAR


@dataclass(frozen=True)
class Tick:
    at: datetime
    x: float
    label: str


@dataclass(frozen=True)
class Timeline:
    start: datetime
    end: datetime
    now: datetime
    now_x: float
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    height: float
    summary: str

    @property
    def width(self) -> int:
        return WIDTH

    @property
    def plot_bottom(self) -> float:
        return self.height - AXIS

    @property
    def tick_label_y(self) -> float:
        return self.height - 8


def _x(when: datetime, start: datetime, end: datetime) -> float:
    span = (end - start).total_seconds() or 1.0
    return round(PAD + (WIDTH - 2 * PAD) * (when - start).total_seconds() / span, 2)


def _step(span: timedelta) -> timedelta:
    for hours in STEPS_HOURS:
        if span / timedelta(hours=hours) <= MAX_TICKS:
            return timedelta(hours=hours)
    return timedelta(hours=STEPS_HOURS[-1])


def _ticks(start: datetime, end: datetime, zone: tzinfo) -> tuple[Tick, ...]:
    step = _step(end - start)
    hours = int(step / timedelta(hours=1))
    local = start.astimezone(zone)
    # The first step boundary at or after the start, counted from local midnight.
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if hours >= 24:
        at = midnight if midnight >= local else midnight + timedelta(days=1)
    else:
        at = midnight + timedelta(hours=hours * -(-(local - midnight) // timedelta(hours=hours)))
    ticks = []
    while at <= end:
        daily = hours >= 24 or (at.hour == 0 and at.minute == 0)
        label = f"{at:%a} {at.day}" if daily else f"{at:%H:%M}"
        ticks.append(Tick(at, _x(at, start, end), label))
        at = (at + step).astimezone(zone)
    return tuple(ticks)


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return "less than a minute"
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{hours // 24} days"


def _summary(keys: Sequence[TimelineKey], now: datetime) -> str:
    first = min(keys, key=lambda k: k.expires_at)
    count = f"{len(keys)} key{'s' if len(keys) != 1 else ''}"
    which = "it" if len(keys) == 1 else "the first"
    if first.expires_at <= now:
        return f"{count}; {which} has reached its expiry and is being removed"
    return f"{count}; {which} ends in {_duration(first.expires_at - now)}"


def key_timeline(
    keys: Sequence[TimelineKey], *, now: datetime, reminder_hours: Sequence[int], zone: tzinfo = UTC
) -> Timeline | None:
    """The timeline of ``keys`` (None when there are none), from the earliest creation (at most
    seven days back) to the latest expiry (at most 168 h ahead), with ticks in ``zone``."""
    if not keys:
        return None
    ordered = sorted(keys, key=lambda k: (k.expires_at, k.access_key_id))
    start = max(min(min(k.created_at for k in ordered), now), now - LOOKBACK)
    end = min(max(max(k.expires_at for k in ordered), now), now + AHEAD)
    if end <= start:  # a key created and expiring at this very moment
        end = start + timedelta(hours=1)
    bars = []
    for row, key in enumerate(ordered):
        left = _x(max(key.created_at, start), start, end)
        right = _x(min(key.expires_at, end), start, end)
        # Reminders are sent only for thresholds shorter than the key's life (keys/reminders.py).
        reminders = tuple(
            Reminder(hours, at, _x(at, start, end))
            for hours in sorted(set(reminder_hours), reverse=True)
            if (at := key.expires_at - timedelta(hours=hours)) > key.created_at
        )
        top = row * ROW
        bars.append(
            Bar(
                key=key,
                x=left,
                width=max(round(right - left, 2), 1.0),  # a key of a few minutes stays visible
                y=top + LABEL + 6,
                label_x=min(left, WIDTH / 2),
                label_y=top + LABEL,
                reminders=tuple(r for r in reminders if start <= r.at <= end),
                all_reminders=reminders,
            )
        )
    return Timeline(
        start=start,
        end=end,
        now=now,
        now_x=_x(now, start, end),
        bars=tuple(bars),
        ticks=_ticks(start, end, zone),
        height=len(bars) * ROW + AXIS,
        summary=_summary(ordered, now),
    )
