from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from portal.units import counted as units_counted
from portal.units import human_size

register = template.Library()

_SHOWN = {"date": "%Y-%m-%d", "minutes": "%Y-%m-%d %H:%M %Z", "seconds": "%Y-%m-%d %H:%M:%S %Z"}


@register.filter
def size(value: int | None) -> str:
    """Bytes in the unit that reads best ("200 kB", "1.5 GB"); '—' when unknown."""
    return "—" if value is None else human_size(value)


@register.filter
def counted(value: int | None, noun: str) -> str:
    """ "1 object", "3 objects" (``noun`` "bucket" or "bucket,buckets"); '—' when unknown."""
    if value is None:
        return "—"
    one, _, many = noun.partition(",")
    return units_counted(value, one, many)


@register.filter
def timetag(value: datetime | None, precision: str = "minutes") -> SafeString | str:
    """A `<time>` element in the current time zone: machine-readable ISO 8601 in `datetime`, and
    "2026-11-21 14:05 UTC" (or only the date, or with seconds) for people.

    One filter instead of two `|date` filters per value: `|date:"T"` looks up the zone name
    through Django's format machinery, which was most of the key list's rendering time."""
    if value is None:
        return ""
    if precision not in _SHOWN:
        raise template.TemplateSyntaxError(f"timetag: precision must be one of {', '.join(_SHOWN)}")
    local = timezone.localtime(value)
    # Both parts come from a datetime, never from input, so there is nothing to escape.
    return mark_safe(f'<time datetime="{local.isoformat()}">{local.strftime(_SHOWN[precision])}</time>')  # noqa: S308
