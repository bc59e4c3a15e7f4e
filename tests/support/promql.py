"""Metric names: those a PromQL expression reads, and those a /metrics page exports, so a
dashboard can be checked against the live output (tests/processes/test_grafana_dashboard.py)."""

from __future__ import annotations

import re
from collections.abc import Iterable

# Words of PromQL that look like names: aggregations, set and grouping keywords, modifiers, numbers.
KEYWORDS = frozenset(
    [
        "sum",
        "min",
        "max",
        "avg",
        "group",
        "stddev",
        "stdvar",
        "count",
        "count_values",
        "bottomk",
        "topk",
        "quantile",
        "limitk",
        "limit_ratio",
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "bool",
        "and",
        "or",
        "unless",
        "offset",
        "atan2",
        "inf",
        "nan",
    ]
)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\[\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_VARIABLE = re.compile(r"\$\{[^}]*\}|\$\w+")
_NUMBER = re.compile(r"(?<![\w:.])(?:0x[0-9a-fA-F]+|\d+(?:\.\d*)?(?:e[+-]?\d+)?(?:ms|[smhdwy])*)(?![\w:])")
_IDENTIFIER = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def metric_names(expr: str) -> set[str]:
    """The metric names an expression reads: what is left once strings, label matchers, range
    selectors, grouping label lists, Grafana variables, numbers, function calls and keywords are
    taken out, e.g. ``histogram_quantile(0.99, sum by (le) (rate(x_bucket{a="b"}[5m])))`` → {x_bucket}."""
    text = _STRING.sub(" ", expr)
    text = _MATCHERS.sub(" ", text)
    text = _VARIABLE.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    text = _NUMBER.sub(" ", text)
    names = set()
    for found in _IDENTIFIER.finditer(text):
        word = found.group(0)
        follows = text[found.end() :].lstrip()
        if follows.startswith("(") or word.lower() in KEYWORDS:
            continue  # a function or aggregation called, or a keyword
        names.add(word)
    return names


def exported_names(exposition: str) -> set[str]:
    """Every series name a Prometheus text page offers: the samples present, and for each declared
    family the names its type yields (a counter's _total, a histogram's _bucket/_sum/_count), so a
    labelled family with no sample yet (an error counter before the first error) still counts."""
    names = set()
    for line in exposition.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(maxsplit=3)
            base = name.removesuffix("_total") if kind == "counter" else name
            names |= set(_family_names(base, kind))
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{\s]", line, maxsplit=1)[0])
    return names


def _family_names(base: str, kind: str) -> Iterable[str]:
    if kind == "counter":
        return (f"{base}_total", f"{base}_created")
    if kind == "histogram":
        return (f"{base}_bucket", f"{base}_sum", f"{base}_count", f"{base}_created")
    if kind == "summary":
        return (base, f"{base}_sum", f"{base}_count", f"{base}_created")
    return (base,)


def dashboard_exprs(dashboard: dict[str, object]) -> dict[str, list[str]]:
    """Every PromQL expression of a Grafana dashboard, by panel title (rows' nested panels too)."""
    found: dict[str, list[str]] = {}

    def walk(panels: object) -> None:
        for panel in panels if isinstance(panels, list) else []:
            exprs = [t["expr"] for t in panel.get("targets", []) if t.get("expr")]
            if exprs:
                found.setdefault(str(panel.get("title")), []).extend(exprs)
            walk(panel.get("panels"))

    walk(dashboard.get("panels"))
    return found


def unknown_names(dashboard: dict[str, object], exported: set[str]) -> dict[str, set[str]]:
    """Per panel title, the names its expressions read that the exposition does not offer."""
    missing = {}
    for title, exprs in dashboard_exprs(dashboard).items():
        names = set().union(*(metric_names(e) for e in exprs)) - exported
        if names:
            missing[title] = names
    return missing
