"""`latchkey usage`: a project's usage history from the API, as a table to read or as the CSV the
web page downloads (the same header and cells, so a script can take either)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from latchkey_cli.session import api_time

UNITS = ((10**12, "TB"), (10**9, "GB"), (10**6, "MB"), (10**3, "kB"), (1, "B"))
RANGE_WORDS = {"7d": "7 days", "30d": "30 days", "1y": "year"}


def size(value: int) -> str:
    """Bytes in decimal units (quotas are given in GB = 10^9), three significant figures, as the web
    page's chart writes them (usage/chart.py's human; the CLI ships without the server's code):
    999 B, 1.08 MB, 1 TB; past the largest unit, whole TB (5,000 TB)."""
    for i, (factor, unit) in enumerate(UNITS):
        if abs(value) >= factor:
            text = f"{value / factor:.3g}"
            if "e" in text and i:  # 999.5 kB and up round to 1e+03: one unit up, 1 MB
                factor, unit = UNITS[i - 1]
                text = f"{value / factor:.3g}"
            elif "e" in text:
                text = f"{value / factor:,.0f}"
            return f"{text} {unit}"
    return "0 B"


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def _bucket(point: dict[str, Any]) -> str:
    return "(project)" if point["bucket"] is None else str(point["bucket"])


def as_csv(history: dict[str, Any]) -> str:
    """The web page's CSV: times in UTC as it writes them, the project's rows as "(project)", a
    leading =, +, - or @ quoted so that a spreadsheet does not run it; lines end as on this system."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["time", "bucket", "bytes", "objects"])
    for p in history["points"]:
        name = _bucket(p)
        cell = "'" + name if name[:1] in ("=", "+", "-", "@") else name
        writer.writerow([api_time(p["time"]).isoformat(), cell, p["bytes"], p["objects"]])
    return out.getvalue().rstrip("\n")


def as_table(history: dict[str, Any], table: Callable[[list[list[Any]]], str]) -> str:
    """A line on the range and the project's latest figures, then one row per point in local time,
    by bucket (the project first), oldest first; ``table`` lays out the rows as the other commands do."""
    points = history["points"]
    span = f"Project {history['project']}, the last {RANGE_WORDS.get(history['range'], history['range'])}"
    if not points:
        return f"{span}: no usage recorded."
    quota = "no quota" if history["quota_bytes"] is None else f"quota {size(history['quota_bytes'])}"
    summary = f"{span}: {plural(len(points), 'point')}"
    totals = [p for p in points if p["bucket"] is None]
    if totals:
        latest = totals[-1]
        summary += f"; latest {size(latest['bytes'])} in {plural(latest['objects'], 'object')}"
    rows = [["TIME", "BUCKET", "SIZE", "OBJECTS"]] + [
        [_local(p["time"]), _bucket(p), size(p["bytes"]), f"{p['objects']:,}"] for p in points
    ]
    return f"{summary} ({quota}).\n" + table(rows)


def _local(text: str) -> str:
    return api_time(text).astimezone().strftime("%Y-%m-%d %H:%M %Z")
