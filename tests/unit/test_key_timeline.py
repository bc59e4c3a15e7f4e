"""The key timeline's geometry (keys/timeline.py, pure), under fixed times: no clock is read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from keys.timeline import PAD, WIDTH, TimelineKey, key_timeline

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
H = timedelta(hours=1)
LEFT, RIGHT = PAD, WIDTH - PAD


def key(created: timedelta, expires: timedelta, name: str = "AK1", description: str = "job") -> TimelineKey:
    """A key created and expiring at offsets from NOW."""
    return TimelineKey(name, "Alice", description, NOW + created, NOW + expires)


def test_no_keys_no_timeline() -> None:
    assert key_timeline([], now=NOW, reminder_hours=[24, 1]) is None


def test_a_single_key_spans_the_window_from_its_creation_to_its_expiry() -> None:
    timeline = key_timeline([key(-2 * H, 6 * H)], now=NOW, reminder_hours=[24, 1])
    assert timeline is not None
    assert (timeline.start, timeline.end) == (NOW - 2 * H, NOW + 6 * H)
    (bar,) = timeline.bars
    assert (bar.x, bar.width) == (LEFT, RIGHT - LEFT)
    assert timeline.now_x == LEFT + (RIGHT - LEFT) * 2 / 8
    # The 24 h reminder would come before the key existed: it is never sent, so never drawn.
    assert [(r.hours, r.at) for r in bar.reminders] == [(1, NOW + 5 * H)]
    assert bar.reminders[0].x == LEFT + (RIGHT - LEFT) * 7 / 8
    assert timeline.summary == "1 key; it ends in 6 hours"


def test_a_key_shorter_than_every_reminder_has_none() -> None:
    timeline = key_timeline([key(-H / 6, H / 3)], now=NOW, reminder_hours=[24, 1])
    assert timeline is not None
    assert timeline.bars[0].reminders == () == timeline.bars[0].all_reminders
    assert timeline.summary == "1 key; it ends in 20 minutes"


def test_bars_are_ordered_by_expiry_and_placed_on_one_axis() -> None:
    keys = [key(-H, 48 * H, "AKLATE", "long"), key(0 * H, 2 * H, "AKSOON", "short"), key(-2 * H, 24 * H, "AKMID")]
    timeline = key_timeline(keys, now=NOW, reminder_hours=[24, 1])
    assert timeline is not None
    assert [b.key.access_key_id for b in timeline.bars] == ["AKSOON", "AKMID", "AKLATE"]
    assert (timeline.start, timeline.end) == (NOW - 2 * H, NOW + 48 * H)
    soon, mid, late = timeline.bars
    assert soon.y < mid.y < late.y and timeline.height > late.bottom
    assert soon.x == timeline.now_x and mid.x == LEFT and late.x + late.width == RIGHT
    # The key that ends after 24 h gets both reminders; the 2 h one only the 1 h one.
    assert [r.hours for r in late.reminders] == [24, 1]
    assert [r.hours for r in soon.reminders] == [1]
    assert timeline.summary == "3 keys; the first ends in 2 hours"


def test_the_window_is_clamped_to_a_week_back_and_168_hours_ahead() -> None:
    old = key(-30 * 24 * H, 24 * H, "AKOLD")  # an impossible age, but the picture must still fit
    far = key(-H, 500 * H, "AKFAR")
    timeline = key_timeline([old, far], now=NOW, reminder_hours=[24])
    assert timeline is not None
    assert (timeline.start, timeline.end) == (NOW - 7 * 24 * H, NOW + 168 * H)
    old_bar, far_bar = timeline.bars
    assert old_bar.x == LEFT and far_bar.x + far_bar.width == RIGHT
    assert timeline.now_x == (LEFT + RIGHT) / 2
    # The far key's reminder lies beyond the window: listed for the table, not drawn.
    assert far_bar.reminders == () and [r.hours for r in far_bar.all_reminders] == [24]
    assert all(LEFT <= t.x <= RIGHT for t in timeline.ticks)


def test_ticks_every_six_hours_for_a_day_and_daily_for_a_week() -> None:
    short = key_timeline([key(-H, 30 * H)], now=NOW, reminder_hours=[])
    assert short is not None
    assert [t.label for t in short.ticks] == ["12:00", "18:00", "Fri 4", "06:00", "12:00"]
    assert short.ticks[0].at == NOW + 2 * H
    week = key_timeline([key(-3 * 24 * H, 100 * H)], now=NOW, reminder_hours=[])
    assert week is not None
    assert [t.label for t in week.ticks] == ["Tue 1", "Wed 2", "Thu 3", "Fri 4", "Sat 5", "Sun 6", "Mon 7"]
    assert len(week.ticks) <= 8


def test_ticks_follow_the_given_time_zone() -> None:
    timeline = key_timeline([key(-H, 30 * H)], now=NOW, reminder_hours=[], zone=ZoneInfo("Europe/Helsinki"))
    assert timeline is not None
    # The window opens at 11:00 in Helsinki; the first six-hour mark there is 12:00, 10:00 UTC.
    assert timeline.ticks[0].at == NOW
    assert timeline.ticks[0].label == "12:00" and timeline.ticks[0].at.utcoffset() == 2 * H


def test_a_key_past_its_expiry_still_fits_and_says_so() -> None:
    timeline = key_timeline([key(-3 * H, -timedelta(minutes=1))], now=NOW, reminder_hours=[1])
    assert timeline is not None
    assert timeline.end == NOW and timeline.now_x == RIGHT
    assert timeline.summary == "1 key; it has reached its expiry and is being removed"
