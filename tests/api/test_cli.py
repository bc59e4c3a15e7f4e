"""The `latchkey` CLI (pip-installed into .venv by install-deps) against a running Latchkey: the
device login approved in Chromium after a real IdP login, `configure` into files that already
hold other remotes and profiles, the real rclone, s3cmd and aws using what it wrote, and
`--remove` putting every file back as it was and revoking the key."""

from __future__ import annotations

import re
import secrets
import subprocess
from pathlib import Path

import pytest
from allauth.idp.oidc.models import Token
from django.conf import settings
from django.db import connections
from django.utils import timezone
from playwright.sync_api import expect

from keys.models import AccessKey
from projects.models import Project
from tests.support import ROOT
from tests.support.browser import chromium
from tests.support.cli import LATCHKEY, login_started
from tests.support.cli import approve_in_django as _approve_in_django
from tests.support.cli import cli_env as _env
from tests.support.cli import cli_run as _run

pytestmark = [pytest.mark.browser, pytest.mark.ceph]
RCLONE = "[other]\n# a remote the user made by hand\ntype = local\n"
S3CFG = "[default]\naccess_key = OLDKEY\nsecret_key = OLDSECRET\nmultipart_chunk_size_mb = 15\n"
AWS_CREDENTIALS = "[default]\naws_access_key_id = OLD\naws_secret_access_key = OLDSECRET\n"
AWS_CONFIG = "[default]\nregion = eu-north-1\n"


def _login(live_server_url: str, home: Path) -> None:
    proc = login_started(live_server_url, home, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    first = proc.stdout.readline()
    match = re.search(r"Open (\S+) in a browser and enter the code (\S+)", first)
    assert match, first
    with chromium() as browser:
        page = browser.new_context(viewport={"width": 375, "height": 800}).new_page()
        page.goto(match.group(1))
        page.get_by_role("button", name="MyAccessID (test)").click()
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill("alice-pass")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_label("Code").fill(match.group(2))
        page.get_by_role("button", name=re.compile("Continue|Submit|Confirm")).first.click()
        page.get_by_role("button", name="Confirm").click()
        expect(page.get_by_text(re.compile("authorized|confirmed", re.I)).first).to_be_visible()
    assert proc.wait(timeout=60) == 0, proc.stdout.read()


@pytest.mark.django_db(transaction=True)
def test_login_configure_use_and_remove(live_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    Project.objects.create(number="462000008", title="Climate ensemble", tenant=f"cli{secrets.token_hex(4)}")
    connections.close_all()
    home = tmp_path / "home"
    files = {
        home / ".config/rclone/rclone.conf": RCLONE,
        home / ".s3cfg": S3CFG,
        home / ".aws/credentials": AWS_CREDENTIALS,
        home / ".aws/config": AWS_CONFIG,
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    _login(live_server.url, home)
    assert "462000008" in _run(home, LATCHKEY, "projects").stdout
    assert (home / ".config/latchkey/token.json").stat().st_mode & 0o077 == 0
    # The login's refresh token ends: LATCHKEY_CLI_SESSION_DAYS after its last use, not never.
    refresh = Token.objects.get(type=Token.Type.REFRESH_TOKEN)
    assert refresh.expires_at is not None
    days = (refresh.expires_at - timezone.now()).total_seconds() / 86400
    assert settings.LATCHKEY_CLI_SESSION_DAYS - 0.01 < days <= settings.LATCHKEY_CLI_SESSION_DAYS

    # A configuration file that does not parse is refused before any key is made.
    (home / ".aws/config").write_text("[default\nregion\n")
    refused = _run(home, LATCHKEY, "configure", "-p", "462000008", "--client", "aws", check=False)
    assert refused.returncode == 1 and "not a valid configuration file" in refused.stderr
    assert (home / ".aws/config").read_text() == "[default\nregion\n"
    assert not AccessKey.objects.exists()
    (home / ".aws/config").write_text(AWS_CONFIG)
    unknown = _run(home, LATCHKEY, "configure", "-p", "462000008", "--client", "rclone,winscp", check=False)
    assert unknown.returncode == 1 and "Unknown client winscp" in unknown.stderr

    _run(home, LATCHKEY, "configure", "-p", "462000008", "--client", "rclone,s3cmd,aws", "--hours", "2")
    key = AccessKey.objects.get(status=AccessKey.Status.ACTIVE)
    rclone_conf = (home / ".config/rclone/rclone.conf").read_text()
    assert rclone_conf.startswith(RCLONE) and "[latchkey-462000008]" in rclone_conf
    assert "multipart_chunk_size_mb = 15" in (home / ".s3cfg").read_text()
    assert (home / ".s3cfg.latchkey-backup").read_text() == S3CFG

    payload = tmp_path / "payload.bin"
    payload.write_bytes(secrets.token_bytes(100_000))
    env_rclone = ("rclone", "--contimeout", "10s")
    _run(home, *env_rclone, "mkdir", "latchkey-462000008:cli-bucket")
    _run(home, *env_rclone, "copyto", str(payload), "latchkey-462000008:cli-bucket/p.bin")
    assert "p.bin" in _run(home, "s3cmd", "ls", "s3://cli-bucket").stdout
    aws = str(ROOT / ".venv/bin/aws")
    _run(home, aws, "--profile", "latchkey-462000008", "s3", "cp", "s3://cli-bucket/p.bin", str(tmp_path / "back.bin"))
    assert (tmp_path / "back.bin").read_bytes() == payload.read_bytes()
    listed = _run(home, LATCHKEY, "keys", "list", "-p", "462000008").stdout
    assert key.access_key_id in listed

    removed = _run(home, LATCHKEY, "configure", "--remove", "-p", "462000008")
    assert f"key {key.access_key_id} revoked" in removed.stdout
    for path, text in files.items():
        assert path.read_text() == text, path
    key.refresh_from_db()
    assert key.status == AccessKey.Status.REVOKED

    # For scripts, as MSI's `s3info --keys`: the login above was fresh, so a reveal is allowed.
    made = _run(home, LATCHKEY, "keys", "create", "-p", "462000008", "--hours", "1", "-d", "script").stdout.split()
    assert _run(home, LATCHKEY, "keys", "show", "--plain", "-p", "462000008", made[0]).stdout.split() == made[:2]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("many_device_logins")
def test_cli_errors_are_one_clear_line_and_change_nothing(live_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import json

    from accounts.models import User
    from projects.models import Membership, Role

    project = Project.objects.create(number="462000031", title="Errors", tenant=f"cle{secrets.token_hex(4)}")
    user = User.objects.create_user(username="cli-user")
    Membership.objects.create(user=user, project=project, role=Role.MEMBER)
    home = tmp_path / "home"

    denied = _approve_in_django(live_server.url, home, user, "deny")
    assert denied.returncode == 1 and "denied" in denied.stderr
    assert _approve_in_django(live_server.url, home, user, "confirm").returncode == 0

    unknown_key = _run(home, LATCHKEY, "keys", "delete", "-p", "462000031", "LKNOSUCHKEY", check=False)
    assert unknown_key.returncode == 1 and unknown_key.stderr == "latchkey: No such key\n"
    endpoint = _run(
        home, LATCHKEY, "configure", "-p", "462000031", "--client", "rclone", "--endpoint", "nowhere", check=False
    )
    assert endpoint.returncode == 1 and "endpoint: Choose one of the endpoints" in endpoint.stderr
    assert not (home / ".config/rclone/rclone.conf").exists() and not AccessKey.objects.exists()

    unwritable = {**_env(home), "RCLONE_CONFIG": "/proc/latchkey-test/rclone.conf"}
    failed = subprocess.run(
        [LATCHKEY, "configure", "-p", "462000031", "--client", "rclone"],
        capture_output=True,
        text=True,
        env=unwritable,
        timeout=120,
        check=False,
    )
    assert failed.returncode == 1 and "cannot write" in failed.stderr and "Traceback" not in failed.stderr
    assert not AccessKey.objects.filter(status=AccessKey.Status.ACTIVE).exists()  # made, then revoked

    token_file = home / ".config/latchkey/token.json"
    saved = json.loads(token_file.read_text())
    token_file.write_text(json.dumps({**saved, "access_token": "forged"}))
    forged = _run(home, LATCHKEY, "projects", check=False)
    assert forged.returncode == 1 and "not valid any more" in forged.stderr
    token_file.write_text(json.dumps({**saved, "expires_at": 0, "refresh_token": "forged"}))
    expired = _run(home, LATCHKEY, "projects", check=False)
    assert expired.returncode == 1 and "login has expired" in expired.stderr
    token_file.write_text(json.dumps({**saved, "expires_at": 0}))  # a real refresh token renews the login
    assert "462000031" in _run(home, LATCHKEY, "projects").stdout
