"""The metric-name reading that checks the Grafana dashboard against /metrics: what an
expression reads, what an exposition offers, and that a name nobody exports is reported."""

from __future__ import annotations

import json

import pytest

from tests.support import ROOT
from tests.support.promql import dashboard_exprs, exported_names, metric_names, unknown_names


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("latchkey_queue_depth", {"latchkey_queue_depth"}),
        ('latchkey_keys{status="active"}', {"latchkey_keys"}),
        ("max by (quantile) (latchkey_revocation_lag_seconds)", {"latchkey_revocation_lag_seconds"}),
        (
            "histogram_quantile(0.99, sum by (le, operation) "
            '(rate(latchkey_ceph_call_seconds_bucket{operation=~"create_.*|remove_key"}[$__rate_interval])))',
            {"latchkey_ceph_call_seconds_bucket"},
        ),
        (
            "sum(rate(a_sum[5m])) / sum without (kind) (rate(a_count[1h:30s] offset 10m)) > 0.5",
            {"a_sum", "a_count"},
        ),
        ('sum by (provider) (x{outcome=~"unavailable|error", provider!="by"}) and on(provider) y', {"x", "y"}),
        ("increase(c_total[${interval}]) * 1e3 + count(d) or vector(0)", {"c_total", "d"}),
        ('label_replace(up, "dst", "$1", "src", "(sum)") unless inf', {"up"}),
        ('{__name__="hidden"}', set()),
    ],
)
def test_names_read_by_an_expression(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


EXPOSITION = """# HELP latchkey_queue_depth Celery tasks waiting
# TYPE latchkey_queue_depth gauge
latchkey_queue_depth 0.0
# HELP latchkey_ceph_call_errors_total Ceph calls that failed
# TYPE latchkey_ceph_call_errors_total counter
# HELP latchkey_ceph_call_seconds Time of each call
# TYPE latchkey_ceph_call_seconds histogram
latchkey_ceph_call_seconds_bucket{le="0.005",operation="ping"} 1.0
latchkey_ceph_call_seconds_count{operation="ping"} 1.0
"""


def test_names_an_exposition_offers_with_each_types_suffixes() -> None:
    names = exported_names(EXPOSITION)
    assert {
        "latchkey_queue_depth",
        "latchkey_ceph_call_errors_total",
        "latchkey_ceph_call_seconds_bucket",
        "latchkey_ceph_call_seconds_sum",
        "latchkey_ceph_call_seconds_count",
    } <= names
    assert "latchkey_ceph_call_errors" not in names and "latchkey_ceph_call_seconds" not in names


def test_an_unknown_name_is_reported_with_its_panel() -> None:
    dashboard = {
        "panels": [
            {"type": "row", "title": "r", "panels": [{"title": "typo", "targets": [{"expr": "latchkey_queue_dept"}]}]},
            {"title": "fine", "targets": [{"expr": "rate(latchkey_ceph_call_errors_total[5m])"}]},
            {"title": "unsuffixed", "targets": [{"expr": "rate(latchkey_ceph_call_seconds[5m])"}]},
        ]
    }
    assert unknown_names(dashboard, exported_names(EXPOSITION)) == {
        "typo": {"latchkey_queue_dept"},
        "unsuffixed": {"latchkey_ceph_call_seconds"},
    }


def test_the_dashboard_is_an_importable_grafana_export() -> None:
    """Grafana's import asks for the Prometheus data source declared in __inputs; every panel and
    query must name it, or it would point at a data source of the exporting Grafana."""
    dashboard = json.loads((ROOT / "docs" / "grafana-latchkey.json").read_text())
    assert [i["name"] for i in dashboard["__inputs"]] == ["DS_PROMETHEUS"]
    assert dashboard["__inputs"][0]["pluginId"] == "prometheus" and dashboard["id"] is None and dashboard["uid"]
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    for panel in panels:
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}, panel["title"]
        assert panel["targets"] and all(t["datasource"] == panel["datasource"] for t in panel["targets"])
        assert panel["description"], panel["title"]
    assert sum(len(e) for e in dashboard_exprs(dashboard).values()) >= 15
