"""Running the `latchkey` CLI (pip-installed into .venv by install-deps) in a test."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.support import ROOT
from tests.support.web import client_for

LATCHKEY = str(ROOT / ".venv/bin/latchkey")


def cli_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RCLONE_", "S3CMD_", "XDG_"))}
    return {**env, "HOME": str(home)}


def cli_run(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, capture_output=True, text=True, env=cli_env(home), timeout=120, check=False)
    if check:
        assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result


def login_started(live_server_url: str, home: Path, *, stderr: int = subprocess.PIPE) -> subprocess.Popen[str]:
    """`latchkey login` running, its first line (the code to enter) still to read."""
    return subprocess.Popen(
        [LATCHKEY, "login", "--server", live_server_url],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env=cli_env(home),
    )


def approve_in_django(live_server_url: str, home: Path, user: object, action: str) -> subprocess.CompletedProcess[str]:
    """`latchkey login`, with the approval (or denial) posted by a logged-in Django test client."""
    proc = login_started(live_server_url, home)
    assert proc.stdout is not None
    first = proc.stdout.readline()
    match = re.search(r"enter the code (\S+)", first)
    assert match, first + proc.communicate(timeout=10)[1]
    answer = client_for(user).post(f"/identity/o/device?code={match.group(1)}", {"action": action})  # type: ignore[arg-type]
    assert answer.status_code == 200
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
