"""Numbers as people read them: sizes in the unit that reads best, counts with their noun. One
place, so pages, the chart and its legend say the same (CSV files keep raw numbers)."""

from __future__ import annotations

# Decimal units: quotas are given in GB = 10^9 bytes, as every S3 service bills them.
UNITS = ((10**15, "PB"), (10**12, "TB"), (10**9, "GB"), (10**6, "MB"), (10**3, "kB"), (1, "B"))


def human_size(size: int | float) -> str:
    """Bytes in the largest unit that keeps the figure at 1 or more, three significant figures:
    "200 kB", "1.5 GB", "0 B"."""
    for i, (factor, name) in enumerate(UNITS):
        if abs(size) >= factor:
            text = f"{size / factor:.3g}"
            if "e" in text and i:  # 999.5 and up round to 1e+03: one unit up (999.7 GB is 1 TB)
                factor, name = UNITS[i - 1]
                text = f"{size / factor:.3g}"
            elif "e" in text:  # beyond the largest unit
                text = f"{size / factor:,.0f}"
            return f"{text} {name}"
    return "0 B"


def counted(number: int, noun: str, plural: str = "") -> str:
    """ "1 object", "0 objects", "12,345 objects"."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"
