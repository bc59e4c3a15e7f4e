"""The shape of a scope, checked before anything reaches the database or Ceph."""

from __future__ import annotations

import pytest

from keys.scopes import ScopeError, scope_from


def test_bucket_scopes_are_sorted_and_say_whether_they_write() -> None:
    scope = scope_from("buckets", [("results", "readwrite"), ("raw", "read")])
    assert scope.buckets == (("raw", "read"), ("results", "readwrite"))
    assert scope.scoped and scope.writes and scope.label == "raw:read,results:readwrite"
    assert not scope_from("buckets", [("raw", "read")]).writes
    assert not scope_from("read-only").writes and scope_from("read-only").scoped
    assert scope_from("member").writes and not scope_from("member").scoped


@pytest.mark.parametrize(
    ("kind", "buckets", "message"),
    [
        ("admin", [], "Unknown scope 'admin'"),
        ("buckets", [], "at least one bucket"),
        ("read-only", [("raw", "read")], "only with the 'buckets' scope"),
        ("buckets", [("raw", "write")], "must be 'read' or 'readwrite'"),
        ("buckets", [("", "read")], "1 to 63 letters"),
        ("buckets", [("x" * 64, "read")], "1 to 63 letters"),
        ("buckets", [("a\x00", "read")], "1 to 63 letters"),
        ("buckets", [("T:theirs", "read")], "1 to 63 letters"),
        ("buckets", [("raw", "read"), ("raw", "readwrite")], "named twice"),
    ],
)
def test_scopes_of_a_wrong_shape_are_refused_with_the_reason(kind: str, buckets: list, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ScopeError, match=message) as caught:
        scope_from(kind, buckets)
    assert caught.value.field == "scope"


def test_at_most_the_configured_number_of_buckets(settings) -> None:  # type: ignore[no-untyped-def]
    settings.LATCHKEY_KEY_MAX_BUCKETS = 3
    assert len(scope_from("buckets", [(f"b{i}", "read") for i in range(3)]).buckets) == 3
    with pytest.raises(ScopeError, match="at most 3 buckets"):
        scope_from("buckets", [(f"b{i}", "read") for i in range(4)])
