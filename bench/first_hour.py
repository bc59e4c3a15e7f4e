"""The timed half of bench/first_hour.sh: wait for `make run` in the fresh root, then log in as the
demo user alice through the test IdP in Chromium, create a key, and use it in Ceph with boto3,
then with the real rclone, s3cmd (`info` included) and aws CLI.
Then end the key shortly, as the tests do (its expiry set in the database, as if it had been made
for a shorter time), and time how long S3 goes on accepting it after its end.

    first_hour.py T0 RUN_PID CHECKOUT LOG    (T0: `date +%s.%N` when make run started)

Prints first_hour_ready_s, first_hour_s and first_hour_expiry_s on stdout, progress on stderr.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from playwright.sync_api import expect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.support.browser import chromium, idp_login

BASE = "http://127.0.0.1:8000"
WAIT_SECONDS = 30 * 60
# Far enough ahead that the next sweep (every 60 s) sees the key within its horizon (two sweeps)
# and queues the exact-time job, as it does for every real key, which lasts an hour or more.
ENDS_IN_SECONDS = 90


def err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_ready(t0: float, run_pid: int, log: Path) -> float:
    while time.time() - t0 < WAIT_SECONDS:
        try:
            if requests.get(BASE + "/health/live", timeout=5).status_code == 200:
                return time.time() - t0
        except requests.ConnectionError:
            pass
        if not _alive(run_pid):
            err(log.read_text()[-4000:])
            raise SystemExit("first-hour: make run stopped before serving; the log is above")
        time.sleep(0.5)
    raise SystemExit(f"first-hour: nothing served after {WAIT_SECONDS} s; see {log}")


def stack_settings(checkout: Path) -> dict[str, str]:
    # The dev stack writes an empty line where the test stack lists its second gateway.
    lines = (checkout / ".stack/dev/latchkey.env").read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if "=" in line)
    return {name: value.strip("'\"") for name, value in pairs}


def login_and_create_key() -> tuple[str, str]:
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 375, "height": 800})
        idp_login(page, BASE)
        page.get_by_role("link", name="462000008").click()
        page.get_by_label("Key description").fill("my first key")
        page.get_by_label("Duration (hours)").fill("24")
        page.get_by_role("button", name="Generate key").click()
        expect(page.get_by_role("heading", name="Key created")).to_be_visible()
        return page.locator("#access-key").inner_text().strip(), page.locator("#secret-key").inner_text().strip()


def alive(checkout: Path, name: str) -> bool:
    """The process make run recorded is running and not a zombie."""
    try:
        pid = int((checkout / f".stack/dev/{name}.pid").read_text())
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, ValueError):
        return False
    return state not in ("Z", "X")


def end_key_soon(checkout: Path, access_key: str) -> float:
    """Set the key's expiry ENDS_IN_SECONDS ahead in make run's SQLite database; returns it."""
    ends = datetime.now(UTC) + timedelta(seconds=ENDS_IN_SECONDS)
    with sqlite3.connect(checkout / ".stack/dev/latchkey.sqlite3", timeout=30) as db:
        changed = db.execute(
            "UPDATE keys_accesskey SET expires_at = ?, expiry_job_for = NULL WHERE access_key_id = ?",
            (ends.replace(tzinfo=None).isoformat(sep=" "), access_key),
        ).rowcount
    assert changed == 1, f"key {access_key} not in the database"
    return ends.timestamp()


def clients_work(settings: dict[str, str], access_key: str, secret: str) -> list[str]:
    """The real rclone, s3cmd and aws CLI each write an object with the key and read it back."""
    endpoint, region = settings["LATCHKEY_S3_ENDPOINT"], settings.get("LATCHKEY_S3_REGION", "default")
    host = endpoint.split("://", 1)[1]
    bucket = f"first-hour-{int(time.time())}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RCLONE_"))}
    # The secret goes in the environment or a 0600 file, never on a command line.
    rclone_env = {
        **env,
        "RCLONE_CONFIG_FH_TYPE": "s3",
        "RCLONE_CONFIG_FH_PROVIDER": "Ceph",
        "RCLONE_CONFIG_FH_ACCESS_KEY_ID": access_key,
        "RCLONE_CONFIG_FH_SECRET_ACCESS_KEY": secret,
        "RCLONE_CONFIG_FH_ENDPOINT": endpoint,
        "RCLONE_CONFIG_FH_REGION": region,
    }
    remote = "fh:"
    s3cfg = Path(tempfile.mkdtemp()) / "s3cfg"
    s3cfg.touch(mode=0o600)
    s3cfg.write_text(
        f"[default]\naccess_key = {access_key}\nsecret_key = {secret}\nhost_base = {host}\n"
        f"host_bucket = {host}\nuse_https = False\nbucket_location = {region}\n"
    )
    s3cmd = ["s3cmd", "-c", str(s3cfg)]
    aws_env = {**env, "AWS_ACCESS_KEY_ID": access_key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_DEFAULT_REGION": region}
    aws = [str(Path(sys.executable).parent / "aws"), "--endpoint-url", endpoint, "s3"]
    steps = {
        "rclone": (
            [
                ["rclone", "mkdir", remote + bucket],
                ["rclone", "rcat", remote + bucket + "/r.txt"],
                ["rclone", "cat", remote + bucket + "/r.txt"],
            ],
            rclone_env,
        ),
        "s3cmd": (
            [
                [*s3cmd, "put", "-", f"s3://{bucket}/s.txt"],
                [*s3cmd, "get", f"s3://{bucket}/s.txt", "-"],
                [*s3cmd, "info", f"s3://{bucket}"],
            ],
            env,
        ),
        "aws": ([[*aws, "cp", "-", f"s3://{bucket}/a.txt"], [*aws, "cp", f"s3://{bucket}/a.txt", "-"]], aws_env),
    }
    for client, (commands, client_env) in steps.items():
        for command in commands:
            done = subprocess.run(command, input=client, capture_output=True, text=True, timeout=120, env=client_env)
            if done.returncode != 0:
                raise SystemExit(f"first-hour: {client} failed: {' '.join(command[:3])} … {done.stderr[-500:]}")
        err(f"first-hour: {client} wrote and read back an object with alice's key")
    return list(steps)


def refused_after(s3, ends: float) -> float:  # type: ignore[no-untyped-def]
    """Seconds from the key's end until S3 refuses it (polled every 0.2 s, for up to 5 min)."""
    while time.time() < ends + 300:
        try:
            s3.list_buckets()
        except ClientError as exc:
            if time.time() < ends:
                raise SystemExit(f"first-hour: S3 refused the key before its end: {exc}") from exc
            return time.time() - ends
        time.sleep(0.2)
    raise SystemExit("first-hour: S3 still accepts the key 5 minutes after its end")


def main() -> None:
    t0, run_pid, checkout, log = float(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])
    ready = wait_ready(t0, run_pid, log)
    err(f"first-hour: make run serves pages after {ready:.0f} s")
    access_key, secret = login_and_create_key()
    settings = stack_settings(checkout)
    s3 = boto3.client(
        "s3",
        endpoint_url=settings["LATCHKEY_S3_ENDPOINT"],
        region_name=settings.get("LATCHKEY_S3_REGION", "default"),
        aws_access_key_id=access_key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
    )
    buckets = s3.list_buckets()["Buckets"]  # raises unless Ceph accepts the key
    done = time.time() - t0
    err(f"first-hour: alice's key works in Ceph ({len(buckets)} buckets listed)")
    clients = clients_work(settings, access_key, secret)
    for name in ("celery-worker", "celery-beat"):
        err(f"first-hour: {name} {'running' if alive(checkout, name) else 'NOT RUNNING'}")
    ends = end_key_soon(checkout, access_key)
    err(f"first-hour: the key ends in {ENDS_IN_SECONDS} s; waiting for S3 to refuse it")
    expiry = refused_after(s3, ends)
    print(f"ceph_version={settings.get('CEPH_VERSION', 'unknown')}")
    print(f"first_hour_clients={','.join(clients)}")
    print(f"first_hour_ready_s={ready:.0f}")
    print(f"first_hour_s={done:.0f}")
    print(f"first_hour_expiry_s={expiry:.2f}")


if __name__ == "__main__":
    main()
