"""PostgreSQL restarted under a running Latchkey: with the production connection settings
(persistent connections, health checks), the next request notices the dead connection, opens a
new one and works; nothing recorded before the restart is lost."""

from __future__ import annotations

import hashlib
import os
import subprocess
from urllib.parse import urlparse

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.urls import reverse

from keys.models import AccessKey
from lifecycle.keys import key_create
from tests.support import ROOT
from tests.support.s3 import s3_error_code
from tests.support.web import client_for

pytestmark = [pytest.mark.ceph]


def _postgres(action: str) -> None:
    digest = hashlib.sha1(str(ROOT).encode(), usedforsecurity=False).hexdigest()[:8]  # as scripts/stack.sh names it
    pg_dir = f"{os.environ.get('TMPDIR', '/tmp')}/latchkey-pg-{digest}-test"
    port = str(settings.DATABASES["default"]["PORT"] or urlparse(os.environ["LATCHKEY_DATABASE_URL"]).port)
    env = {**os.environ, "PG_DIR": pg_dir, "PG_PORT": port}
    subprocess.run(
        [str(ROOT / "scripts/stack/postgres.sh"), action], env=env, check=True, capture_output=True, timeout=120
    )


@pytest.mark.django_db(transaction=True)
def test_postgres_restart(live_server, project, member_of) -> None:  # type: ignore[no-untyped-def]
    membership = member_of(project)
    key = key_create(membership=membership, hours=1, description="before the restart")
    cookie = client_for(membership.user).cookies["sessionid"].value
    page = f"{live_server.url}{reverse('keys:list', args=[project.number])}"
    # As deployed: the server keeps its connection across requests (and checks its health).
    settings_dict = connection.settings_dict
    settings_dict["CONN_MAX_AGE"] = 60
    http = requests.Session()
    http.cookies.set("sessionid", cookie)
    try:
        assert key.key.access_key_id in http.get(page, timeout=30).text
        _postgres("stop")
        down = http.get(page, timeout=30)
        assert down.status_code == 503  # no database: this request fails, and only it
        assert "database is not answering" in down.text and "keep working" in down.text  # templates/500.html
        # The API answers in its own shape: JSON, 503, the reason under "errors".
        api = http.get(f"{live_server.url}/api/v1/projects/{project.number}/keys/", timeout=30)
        assert api.status_code == 503 and api.headers["Content-Type"].startswith("application/json")
        assert "database is not answering" in api.json()["errors"]["non_field_errors"][0]
        _postgres("start")
        again = http.get(page, timeout=30)
        assert again.status_code == 200 and key.key.access_key_id in again.text
    finally:
        settings_dict["CONN_MAX_AGE"] = 0
    connection.close()  # this thread's connection died with the restart
    assert AccessKey.objects.get(pk=key.key.pk).status == AccessKey.Status.ACTIVE
    assert s3_error_code(key.key.access_key_id, key.secret) is None
