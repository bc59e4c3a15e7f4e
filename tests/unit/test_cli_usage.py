"""`latchkey usage`'s wording: sizes in decimal units at the unit edges (where rounding would write
"1000 kB"), plurals, and an empty range said in words. (Real figures from Ceph through the API:
tests/api/test_api_usage.py.)"""

from __future__ import annotations

from latchkey_cli.main import _parser, _table
from latchkey_cli.usage import as_table, plural, size


def test_sizes_step_by_1000_and_never_read_1000_of_a_unit() -> None:
    cases = {0: "0 B", 999: "999 B", 1000: "1 kB", 4_096: "4.1 kB", 999_499: "999 kB", 999_500: "1 MB"}
    cases |= {1_081_873: "1.08 MB", 999_700_000_000: "1 TB", 2_500_000_000_000: "2.5 TB", 5 * 10**15: "5,000 TB"}
    assert {n: size(n) for n in cases} == cases


def test_counts_are_singular_only_for_one() -> None:
    assert [plural(n, "object") for n in (0, 1, 2, 12_345)] == ["0 objects", "1 object", "2 objects", "12,345 objects"]


def test_a_range_without_points_is_said_in_words() -> None:
    empty = {"project": "462000008", "range": "1y", "quota_bytes": 10**12, "points": []}
    assert as_table(empty, _table) == "Project 462000008, the last year: no usage recorded."


def test_the_range_defaults_to_30_days_and_is_left_to_the_server_to_check() -> None:
    assert _parser().parse_args(["usage", "-p", "462000008"]).range == "30d"
    assert _parser().parse_args(["usage", "-p", "462000008", "--range", "all"]).range == "all"
