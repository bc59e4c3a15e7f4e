"""make run's settings: what the operator exports wins over the stack's generated file
(scripts/stack/lib.sh load_env), and a worker and beat started with other settings are
restarted by the next start (scripts/stack/celery.sh)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support import ROOT
from tests.support.workers import subprocess_database_url

LIB = ROOT / "scripts" / "stack" / "lib.sh"


def _loaded(env_file: Path, exported: dict[str, str]) -> dict[str, str]:
    script = f'. "{LIB}"; load_env "{env_file}"; env'
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LK_")}
    done = subprocess.run(["bash", "-c", script], env={**clean, **exported}, capture_output=True, text=True, check=True)
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if line.startswith("LK_"))


def test_an_exported_setting_wins_over_the_generated_file(tmp_path: Path) -> None:
    env_file = tmp_path / "latchkey.env"
    env_file.write_text(
        'LK_DEBUG=true\nLK_PROVIDERS=\'[{"id":"a b"}]\'\nLK_REGION=default\n# a comment\n\nLK_KEEP=file\n'
    )
    loaded = _loaded(env_file, {"LK_REGION": "eu-north-1", "LK_PROVIDERS_FILE": "/etc/providers.json"})
    assert loaded == {
        "LK_DEBUG": "true",  # from the file
        "LK_REGION": "eu-north-1",  # exported: wins
        "LK_PROVIDERS_FILE": "/etc/providers.json",  # exported as a file: the file's value stays out
        "LK_KEEP": "file",
    }
    assert _loaded(env_file, {})["LK_PROVIDERS"] == '[{"id":"a b"}]'


def _pids(directory: Path) -> dict[str, str]:
    return {role: (directory / f"celery-{role}.pid").read_text().strip() for role in ("worker", "beat")}


@pytest.mark.django_db(transaction=True)
def test_a_worker_and_beat_with_other_settings_are_restarted(tmp_path: Path) -> None:
    celery = [str(ROOT / "scripts" / "stack" / "celery.sh")]
    env = {**os.environ, "CELERY_DIR": str(tmp_path), "LATCHKEY_DATABASE_URL": subprocess_database_url()}
    try:
        subprocess.run([*celery, "start"], env=env, check=True, capture_output=True, timeout=180)
        first = _pids(tmp_path)
        same = subprocess.run([*celery, "start"], env=env, check=True, capture_output=True, text=True, timeout=180)
        assert "already running" in same.stdout and _pids(tmp_path) == first
        changed = {**env, "LATCHKEY_REMINDER_HOURS": "12,2"}
        again = subprocess.run([*celery, "start"], env=changed, check=True, capture_output=True, text=True, timeout=180)
        assert "its settings changed since it started; restarting it" in again.stdout
        second = _pids(tmp_path)
        assert second["worker"] != first["worker"] and second["beat"] != first["beat"]
    finally:
        subprocess.run([*celery, "stop"], env=env, capture_output=True, timeout=60)
