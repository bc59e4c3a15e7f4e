"""docker-compose.yml, validated by Debian's docker-compose (it parses and interpolates the file
without a Docker engine): the production shape, with Ceph and the IdPs external and configured."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = {
    "LATCHKEY_ALLOWED_HOSTS": "latchkey.example.org",
    "LATCHKEY_CSRF_TRUSTED_ORIGINS": "https://latchkey.example.org",
    "LATCHKEY_RGW_ADMIN_URL": "https://rgw.internal",
    "LATCHKEY_S3_ENDPOINT": "https://s3.example.org",
}


def _config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("LATCHKEY_")}
    return subprocess.run(["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config"], cwd=ROOT,
                          env={**base, **env}, capture_output=True, text=True, timeout=60, check=False)  # fmt: skip


def test_compose_file_is_valid_and_has_the_production_shape() -> None:
    result = _config(REQUIRED)
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    services = config["services"]
    assert set(services) == {"web", "worker", "beat", "postgres", "redis"}
    assert "gunicorn portal.wsgi" in str(services["web"]["command"])
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
