from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def gb(value: int | None) -> str:
    """Bytes as GB (10^9), the unit quotas are given in; '—' when unknown."""
    if value is None:
        return "—"
    amount = value / 10**9
    return f"{amount:,.0f} GB" if amount >= 100 else f"{amount:,.2f} GB"
