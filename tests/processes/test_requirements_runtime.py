"""Latchkey as users run it: a virtualenv made from requirements.txt alone (what `make run` and the
image install, not the suite's requirements-dev.txt) runs the web, a Celery worker and beat,
started by the same script `make run` uses, against the test stack; a key ends at its expiry and
S3 refuses it; when the worker and beat stop, readiness names the sweep; and when a runtime
package is missing, the start fails loudly, naming the line that killed the process."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.utils import timezone

from keys.models import AccessKey
from lifecycle.keys import key_create
from portal.celery import app as celery_app
from tests.support import ROOT
from tests.support.s3 import s3_error_code, wait_refused
from tests.support.workers import gunicorn, subprocess_database_url

pytestmark = [pytest.mark.ceph]
SWEEP_SECONDS = 2  # the test's sweep interval, so that staleness shows within seconds


# Session, not module: pytest-django runs transactional tests after the others, which splits this
# module's tests apart, and a module fixture was then built twice (about 35 s each).
@pytest.fixture(scope="session")
def runtime_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with requirements.txt and nothing else (the pip cache makes it quick)."""
    venv = tmp_path_factory.mktemp("runtime") / "venv"
    base = getattr(sys, "_base_executable", sys.executable)  # not the suite's own virtualenv
    subprocess.run([base, "-m", "venv", str(venv)], check=True, timeout=120)
    install = subprocess.run(
        [str(venv / "bin/pip"), "install", "-q", "--disable-pip-version-check", "-r", str(ROOT / "requirements.txt")],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    # The suite's tools are absent: what passes below passes without them.
    absent = subprocess.run([str(venv / "bin/python"), "-c", "import pytest"], capture_output=True, check=False)
    assert absent.returncode != 0
    return venv


def _env(venv: Path, celery_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "VENV": str(venv),
        "CELERY_DIR": str(celery_dir),
        "CELERY_CONCURRENCY": "1",
        "CELERY_WAIT_SECONDS": "90",
        "LATCHKEY_DATABASE_URL": subprocess_database_url(),
        "LATCHKEY_SWEEP_SECONDS": str(SWEEP_SECONDS),
        "PATH": f"{venv / 'bin'}:{os.environ['PATH']}",
    }


def _celery(action: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / "scripts/stack/celery.sh"), action],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture
def web(runtime_venv: Path, tmp_path: Path) -> Iterator[str]:
    """gunicorn from the fresh virtualenv, on this test's database."""
    with gunicorn(runtime_venv / "bin", _env(runtime_venv, tmp_path / "celery"), tmp_path / "web.log") as url:
        yield url


def _ready(url: str) -> tuple[int, dict[str, dict[str, str]]]:
    response = requests.get(url + "/health/ready", timeout=10)
    return response.status_code, response.json()["checks"]


@pytest.mark.django_db(transaction=True)
def test_requirements_txt_alone_runs_web_worker_and_beat_and_keys_end_on_time(  # type: ignore[no-untyped-def]
    runtime_venv: Path, web: str, tmp_path: Path, project, member_of
) -> None:
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        pytest.fail("this test needs the PostgreSQL of the test stack (make test)")
    celery_app.control.purge()  # jobs other tests queued without a worker
    env = _env(runtime_venv, tmp_path / "celery")
    try:
        started = _celery("start", env)
        assert started.returncode == 0, started.stdout + started.stderr
        assert "first expiry sweep completed" in started.stdout  # beat sent it at start, the worker ran it

        status, checks = _ready(web)
        assert status == 200 and checks["sweep"]["status"] == "ok", checks

        # A key that ends in a few seconds, as if made an hour ago: Ceph never expires it itself.
        membership = member_of(project)
        issued = key_create(
            membership=membership,
            hours=1,
            description="ends soon",
            now=timezone.now() - timedelta(hours=1) + timedelta(seconds=6),
        )
        key_id, secret = issued.key.access_key_id, issued.secret
        assert s3_error_code(key_id, secret) is None
        ends = issued.key.expires_at.timestamp()
        while time.time() < ends + 30 and s3_error_code(key_id, secret) is None:
            time.sleep(0.1)
        refused_after = time.time() - ends
        assert wait_refused(key_id, secret, timeout=0) == "InvalidAccessKeyId", "S3 still accepts the key"
        assert refused_after >= 0, "removed before its expiry"
        assert AccessKey.objects.get(pk=issued.key.pk).status == AccessKey.Status.EXPIRED
        age = re.search(r"^latchkey_sweep_age_seconds (\S+)$", requests.get(web + "/metrics", timeout=10).text, re.M)
        assert age and float(age.group(1)) < 3 * SWEEP_SECONDS

        # Worker and beat gone: within three sweep intervals the web says expiry is not enforced.
        assert _celery("check", env).returncode == 0
        stopped = _celery("stop", env)
        assert stopped.returncode == 0, stopped.stderr
        checked = _celery("check", env)
        assert checked.returncode == 1 and "NOT RUNNING" in checked.stderr
        deadline = time.monotonic() + 6 * SWEEP_SECONDS + 10
        while (status := _ready(web)[0]) == 200 and time.monotonic() < deadline:
            time.sleep(0.5)
        status, checks = _ready(web)
        assert status == 503 and checks["sweep"]["status"] == "down", checks
        assert [name for name, c in checks.items() if c["status"] == "down"] == ["sweep"]
    finally:
        _celery("stop", env)


def test_a_missing_runtime_package_fails_the_start_loudly(runtime_venv: Path, tmp_path: Path) -> None:
    """The failure this file was written for: kombu's Redis transport imports packaging, which only
    its redis extra declares. Without it the worker and beat die at once; the start must say so."""
    broken = tmp_path / "broken"
    shutil.copytree(runtime_venv, broken, symlinks=True)
    # The copy's scripts name the original interpreter in their #! line: run celery through the copy.
    for script in ("celery",):
        path = broken / "bin" / script
        path.write_text(re.sub(r"^#!.*", f"#!{broken / 'bin/python'}", path.read_text(), count=1))
    removed = subprocess.run(
        [str(broken / "bin/python"), "-m", "pip", "uninstall", "-y", "-q", "packaging"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert removed.returncode == 0, removed.stderr
    env = _env(broken, tmp_path / "celery")
    try:
        started = _celery("start", env)
        assert started.returncode == 1, started.stdout
        assert "NOT RUNNING" in started.stderr
        assert "ModuleNotFoundError: No module named 'packaging'" in started.stderr
    finally:
        _celery("stop", env)


def test_the_image_installs_requirements_txt_and_every_package_of_ours() -> None:
    """The Dockerfile's install line is the same file this module proves, and the image holds
    every package the settings load (a new app missing from the image would crash it at start)."""
    lines = [line.split("#")[0].strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    installs = [line for line in lines if "pip install" in line]
    assert installs == ["RUN pip install --no-cache-dir -r requirements.txt"]
    copied = {line.split()[1] for line in lines if line.startswith("COPY ")}
    assert "requirements.txt" in copied
    ours = {app.split(".")[0] for app in settings.INSTALLED_APPS if (ROOT / app.split(".")[0]).is_dir()}
    ours |= {settings.ROOT_URLCONF.split(".")[0], "templates", "static", "manage.py"}
    assert ours <= copied, f"not in the image: {sorted(ours - copied)}"
