"""The page filters in projects/templatetags/latchkey.py (pure; no services)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.utils import timezone

WHEN = datetime(2026, 11, 21, 12, 5, 9, tzinfo=UTC)


def render(source: str, **context: object) -> str:
    return Template("{% load latchkey %}" + source).render(Context(context))


def test_timetag_shows_minutes_in_the_current_zone_with_iso_for_machines() -> None:
    with timezone.override("Europe/Helsinki"):
        out = render("{{ t|timetag }}", t=WHEN)
    assert out == '<time datetime="2026-11-21T14:05:09+02:00">2026-11-21 14:05 EET</time>'


def test_timetag_precisions() -> None:
    with timezone.override("UTC"):
        assert (
            render('{{ t|timetag:"date" }}', t=WHEN) == '<time datetime="2026-11-21T12:05:09+00:00">2026-11-21</time>'
        )
        assert render('{{ t|timetag:"seconds" }}', t=WHEN).endswith(">2026-11-21 12:05:09 UTC</time>")


def test_timetag_of_nothing_is_empty_and_a_wrong_precision_is_refused() -> None:
    assert render("{{ t|timetag }}", t=None) == ""
    with pytest.raises(TemplateSyntaxError):
        render('{{ t|timetag:"hours" }}', t=WHEN)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "—"),
        (0, "0 B"),
        (999, "999 B"),
        (200_000, "200 kB"),  # not "0.00 GB"
        (1_500_000_000, "1.5 GB"),
        (250 * 10**9, "250 GB"),
        (999_700_000_000, "1 TB"),
        (3 * 10**12, "3 TB"),
    ],
)
def test_sizes_read_in_the_unit_that_fits(value: int | None, shown: str) -> None:
    assert render("{{ v|size }}", v=value) == shown


@pytest.mark.parametrize(
    ("value", "noun", "shown"),
    [(1, "object", "1 object"), (0, "object", "0 objects"), (12345, "object", "12,345 objects"), (None, "object", "—")],
)
def test_counts_carry_their_noun_in_the_right_number(value: int | None, noun: str, shown: str) -> None:
    assert render("{{ v|counted:noun }}", v=value, noun=noun) == shown
