"""Development runs on SQLite (`make run`): the usage history, whose queries are written for
PostgreSQL, must work there too. A separate process with its own SQLite database migrates,
keeps and prunes points, and draws the project and bucket pages and the CSV."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

SCRIPT = """
from datetime import timedelta
from django.test import Client
from django.utils import timezone
from accounts.models import User
from buckets.models import Bucket
from projects.models import Membership, Project
from usage.models import UsagePoint, interval_start
from usage.services import PRUNE, usage_prune_run
from heartbeats.models import Heartbeat

now = timezone.now()
user = User.objects.create(username="dev")
project = Project.objects.create(number="462000077", title="dev", tenant="dev462000077", quota_bytes=10**10)
Membership.objects.create(user=user, project=project)
Bucket.objects.create(project=project, name="raw", size_bytes=5 * 10**9)
UsagePoint.objects.bulk_create(
    UsagePoint(project=project, bucket=b, at=now - timedelta(minutes=10 * i), size_bytes=10**9 + i, object_count=i)
    for b in ("", "raw") for i in range(3 * 144)
)
usage_prune_run(now=now, keep=[(86400, 0), (730 * 86400, 3600)])
usage_prune_run(now=now + timedelta(hours=1), keep=[(86400, 0), (730 * 86400, 3600)])
cut = now + timedelta(hours=1) - timedelta(days=1)  # the second run's first band starts here
raw = list(UsagePoint.objects.filter(bucket="raw").values_list("at", flat=True))
hours = [interval_start(at, timedelta(hours=1)) for at in raw if at < cut]
assert len(hours) == len(set(hours)) >= 48, hours  # one point an hour, about two days of them
assert sum(at >= cut for at in raw) == 139  # every point of the last 23 hours
client = Client()
client.force_login(user)
for url in ("/projects/462000077/?range=7d", "/projects/462000077/buckets/raw/"):
    page = client.get(url, HTTP_HOST="127.0.0.1")
    assert page.status_code == 200 and b'class="usage-chart"' in page.content, (url, page.status_code)
csv = client.get("/projects/462000077/usage.csv", HTTP_HOST="127.0.0.1")
assert csv.status_code == 200 and len(b"".join(csv.streaming_content).splitlines()) > 300
print("sqlite ok")
"""


def test_usage_history_on_the_development_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, "LATCHKEY_DATABASE_URL": f"sqlite:///{tmp_path}/dev.sqlite3", "LATCHKEY_DEBUG": "true"}
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=300)
    done = subprocess.run(
        [*manage, "shell", "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and "sqlite ok" in done.stdout, done.stderr[-3000:]


pytestmark = [pytest.mark.timeout(600)]


WRITER = """
import sys
from django.db import transaction
from heartbeats.models import Heartbeat
name = sys.argv[-1]
for i in range(150):
    with transaction.atomic():  # read, then write in the same transaction: SQLite's deadlock case
        Heartbeat.objects.filter(name=name).count()
        Heartbeat.objects.update_or_create(name=name, defaults={"summary": {"i": i}})
print("writer ok")
"""


def test_overlapping_writers_on_the_development_database_never_meet_a_lock(tmp_path: Path) -> None:
    """make run's web, worker and beat share one SQLite file: four processes writing at once, each
    reading before it writes inside a transaction, all finish (no "database is locked")."""
    env = {**os.environ, "LATCHKEY_DATABASE_URL": f"sqlite:///{tmp_path}/dev.sqlite3", "LATCHKEY_DEBUG": "true"}
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=300)
    script = tmp_path / "writer.py"
    script.write_text(
        "import django, os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'portal.settings')\n"
        "django.setup()\n" + WRITER
    )
    writers = [
        subprocess.Popen(
            [sys.executable, str(script), f"w{n}"],
            cwd=ROOT,
            env={**env, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    for writer in writers:
        out, err = writer.communicate(timeout=240)
        assert writer.returncode == 0 and "writer ok" in out, err[-2000:]
    mode = subprocess.run(
        [
            *manage,
            "shell",
            "-c",
            "from django.db import connection; c = connection.cursor(); "
            "c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert mode.stdout.strip().splitlines()[-1] == "wal"
