"""LATCHKEY_LOG_FORMAT=json: each log line of a real process is one JSON object."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support import ROOT

SETTINGS = "portal.settings"


def test_json_logs_are_one_object_per_line() -> None:
    code = (
        "import django, logging; django.setup(); log = logging.getLogger('keys.services'); "
        "log.info('key %s created', 'LKTEST'); "
        "exec('try:\\n 1/0\\nexcept ZeroDivisionError:\\n log.exception(\\'boom\\')')"
    )
    env = {**os.environ, "LATCHKEY_LOG_FORMAT": "json", "LATCHKEY_DEBUG": "true", "DJANGO_SETTINGS_MODULE": SETTINGS}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    entries = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert entries[0]["message"] == "key LKTEST created" and entries[0]["level"] == "INFO"
    assert entries[0]["logger"] == "keys.services" and entries[0]["time"].endswith("+00:00")
    assert entries[1]["message"] == "boom" and "ZeroDivisionError" in entries[1]["exception"]
    assert len(entries) == len([line for line in result.stderr.splitlines() if line.strip()])


def test_an_unknown_log_format_is_refused() -> None:
    env = {**os.environ, "LATCHKEY_LOG_FORMAT": "xml", "LATCHKEY_DEBUG": "true", "DJANGO_SETTINGS_MODULE": SETTINGS}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0 and "LATCHKEY_LOG_FORMAT: plain or json" in result.stderr
