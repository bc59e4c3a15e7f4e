"""docker-compose.yml, validated by Debian's docker-compose (it parses and interpolates the file
without a Docker engine): the production shape, with Ceph and the IdPs external and configured."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import redis
import yaml

from portal.env import url_with_password
from tests.support import ROOT

REQUIRED = {
    "LATCHKEY_ALLOWED_HOSTS": "latchkey.example.org",
    "LATCHKEY_CSRF_TRUSTED_ORIGINS": "https://latchkey.example.org",
    "LATCHKEY_RGW_ADMIN_URL": "https://rgw.internal",
    "LATCHKEY_S3_ENDPOINT": "https://s3.example.org",
}


def _config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("LATCHKEY_")}
    return subprocess.run(
        ["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config"],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_compose_file_is_valid_and_has_the_production_shape() -> None:
    result = _config(REQUIRED)
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    services = config["services"]
    assert set(services) == {"web", "worker", "beat", "postgres", "redis"}
    assert "gunicorn -c python:portal.gunicorn_conf portal.wsgi" in str(services["web"]["command"])
    assert "worker" in str(services["worker"]["command"]) and "beat" in str(services["beat"]["command"])
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["LATCHKEY_RGW_ADMIN_URL"] == "https://rgw.internal"
        assert env["LATCHKEY_OIDC_PRIVATE_KEY_FILE"].startswith("/run/secrets/")
        assert "LATCHKEY_DEBUG" not in env  # production: DEBUG stays off
        assert not any("SECRET" in k and not k.endswith("_FILE") for k in env)  # secrets come as files
    # The worker's Ceph calls (revocations) are summed into the web's /metrics through one volume.
    for name in ("web", "worker"):
        folder = services[name]["environment"]["PROMETHEUS_MULTIPROC_DIR"]
        assert any(str(v).startswith(f"metrics:{folder}") for v in services[name]["volumes"]), services[name]


def test_compose_refuses_to_run_without_the_external_services() -> None:
    missing = {k: v for k, v in REQUIRED.items() if k != "LATCHKEY_RGW_ADMIN_URL"}
    result = _config(missing)
    assert result.returncode != 0 and "LATCHKEY_RGW_ADMIN_URL" in result.stderr


def test_compose_keeps_the_database_redis_and_web_closed() -> None:
    services = yaml.safe_load(_config(REQUIRED).stdout)["services"]
    pg = services["postgres"]["environment"]
    assert "POSTGRES_HOST_AUTH_METHOD" not in pg and pg["POSTGRES_PASSWORD_FILE"].startswith("/run/secrets/")
    assert "scram-sha-256" in pg["POSTGRES_INITDB_ARGS"]
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["LATCHKEY_DATABASE_PASSWORD_FILE"] == pg["POSTGRES_PASSWORD_FILE"]
        assert env["LATCHKEY_REDIS_PASSWORD_FILE"].startswith("/run/secrets/")
        assert urlsplit(env["LATCHKEY_REDIS_URL"]).password is None
        assert urlsplit(env["LATCHKEY_DATABASE_URL"]).password is None
    assert services["web"]["ports"] == ["127.0.0.1:8000:8000/tcp"]
    assert all("ports" not in services[name] for name in ("worker", "beat", "postgres", "redis"))


def test_the_compose_redis_command_really_requires_the_password(tmp_path: Path) -> None:
    """The redis service's own command, run with Debian's redis-server (on a free port, no disk):
    a client without the password is refused; Latchkey's settings build the URL that gets in."""
    raw = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["redis"]["command"]
    secret = tmp_path / "redis_password"
    secret.write_text(secrets.token_hex(32) + "\n")  # as docs/operators.md says to make it
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = raw[2].replace("$$", "$").replace("/run/secrets/redis_password", str(secret))
    script = script.replace("redis-server -", f"redis-server - --port {port} --bind 127.0.0.1 --save ''")
    server = subprocess.Popen(
        [raw[0], raw[1], script], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        plain = redis.Redis(host="127.0.0.1", port=port, socket_timeout=2)
        deadline = time.monotonic() + 10
        while True:
            try:
                plain.ping()
                raise AssertionError("Redis answered without the password")
            except redis.AuthenticationError:
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "the compose redis command did not start"
                time.sleep(0.1)
        url = url_with_password(f"redis://127.0.0.1:{port}/0", secret.read_text().strip())
        assert redis.Redis.from_url(url, socket_timeout=2).ping()
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the shell and the redis-server it started
        server.wait(timeout=10)
