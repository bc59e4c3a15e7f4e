"""The web as deployed writes no login secret into its access log: gunicorn with
portal/gunicorn_conf.py, asked for the URLs that carry them."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import requests

from tests.support.workers import gunicorn, subprocess_database_url

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_the_access_log_keeps_paths_and_drops_query_strings_and_referrers(tmp_path: Path) -> None:
    env = {**os.environ, "LATCHKEY_DATABASE_URL": subprocess_database_url()}
    log = tmp_path / "web.log"
    secrets = {"code": "AUTHCODE-8c1f", "state": "STATE-77aa", "user_code": "WDJB-MJHT"}
    with gunicorn(Path(sys.executable).parent, env, log) as url:
        requests.get(
            f"{url}/accounts/oidc/myaccessid/login/callback/?code={secrets['code']}&state={secrets['state']}",
            timeout=10,
            allow_redirects=False,
        )
        requests.get(
            f"{url}/identity/o/device?code={secrets['user_code']}",
            timeout=10,
            allow_redirects=False,
            headers={"Referer": f"{url}/x?user_code={secrets['user_code']}"},
        )
    text = log.read_text()
    assert '"GET /accounts/oidc/myaccessid/login/callback/ HTTP/1.1"' in text
    assert '"GET /identity/o/device HTTP/1.1"' in text
    for name, value in secrets.items():
        assert value not in text, name
