"""Reading one figure from /metrics' Prometheus text."""

from __future__ import annotations

import re


def metric_value(text: str, name: str, default: float | None = None) -> float:
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    if match is None and default is not None:
        return default  # a labelled series appears with its first observation
    assert match, f"{name} not in metrics"
    return float(match.group(1))
