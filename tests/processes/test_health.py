"""Health endpoints against the real services: ready when the database, Redis and Ceph answer
and the expiry sweep has completed lately; 503 naming the one that does not."""

from __future__ import annotations

import pytest
from django.test import Client

from heartbeats.services import heartbeat_completed
from keys.selectors import SWEEP

pytestmark = [pytest.mark.django_db, pytest.mark.ceph]
CLOSED = "127.0.0.1:9"  # the discard port: nothing listens there


def test_live_needs_nothing_and_no_login() -> None:
    response = Client().get("/health/live")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.fixture
def swept() -> None:
    """A sweep a worker has just completed (tests/processes/test_requirements_runtime.py shows a real one)."""
    heartbeat_completed(name=SWEEP, summary={"expired": 0})


def test_ready_checks_every_dependency(swept) -> None:  # type: ignore[no-untyped-def]
    response = Client().get("/health/ready")
    assert response.status_code == 200, response.json()
    assert {name: c["status"] for name, c in response.json()["checks"].items()} == {
        "database": "ok",
        "redis": "ok",
        "ceph": "ok",
        "sweep": "ok",
    }
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.parametrize(
    ("setting", "value", "down"),
    [
        ("REDIS_URL", f"redis://{CLOSED}/0", "redis"),
        ("LATCHKEY_RGW_ADMIN_URL", f"http://{CLOSED}", "ceph"),
    ],
)
def test_ready_names_what_is_down(swept, settings, setting: str, value: str, down: str) -> None:  # type: ignore[no-untyped-def]
    setattr(settings, setting, value)
    response = Client().get("/health/ready")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks[down]["status"] == "down" and checks[down]["error"]
    assert [n for n, c in checks.items() if c["status"] == "down"] == [down]
