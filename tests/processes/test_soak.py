"""The short soak: bench/soak.py for about two minutes on the test stack itself (gunicorn, a
worker and beat of its own on this test's database; the test stack's radosgw gateways, Redis
and PostgreSQL stopped and restarted for real, the worker SIGKILLed), then its invariants.

It runs on the test stack rather than a soak stack of its own: the suite's stack is already up
and tests/faults stop its services too, so this costs no second Ceph and no second set of ports."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.db import connection

from tests.support import ROOT
from tests.support.workers import subprocess_database_url

pytestmark = [pytest.mark.ceph]
SOAK_SECONDS = 100


@pytest.mark.timeout(600)
@pytest.mark.django_db(transaction=True)
def test_short_soak_keeps_every_invariant() -> None:
    env = {
        **os.environ,
        "LATCHKEY_DATABASE_URL": subprocess_database_url(),
        "SOAK_PROFILE": "test",
        "SOAK_SECONDS": str(SOAK_SECONDS),
        "PYTHONPATH": str(ROOT),
    }
    try:
        done = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "soak.py")],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=540,
        )
    finally:
        connection.close()  # PostgreSQL was restarted under this process's connection
    print(done.stdout)  # the soak's figures, for pytest -rP
    figures = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    assert figures.get("soak_violations") == "0" and done.returncode == 0, done.stdout + done.stderr[-6000:]
    assert int(figures["soak_faults"]) >= 2, figures  # faults did happen (5-15 s apart, 5-15 s long)...
    assert int(figures["soak_operations"]) >= 50, figures  # ...under load
    assert int(figures["soak_keys_accepted_live"]) > 0, figures  # the prober can tell acceptance
    assert int(figures["soak_keys_ended_checked"]) > 0, figures  # and ended keys were checked
    assert int(figures["soak_scoped_keys_created"]) > 0, figures  # scoped keys among them
