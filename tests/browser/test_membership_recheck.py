"""Memberships re-checked without a browser (lifecycle/recheck.py), against the real test IdP,
Ceph and PostgreSQL: grace logs in once in Chromium (Latchkey keeps the IdP's refresh token,
sealed); then the IdP is changed while Latchkey runs (idp/server.js /_admin) and S3 itself
shows the result."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from allauth.idp.oidc.models import Token
from allauth.socialaccount.models import SocialAccount
from django.core.cache import cache
from django.db import connections
from playwright.sync_api import expect

from accounts.models import UpstreamGrant, User
from heartbeats.models import Heartbeat
from keys.models import AccessKey
from lifecycle.keys import key_create
from lifecycle.recheck import RECHECK, account_recheck, memberships_recheck
from portal.sealing import seal, unseal
from projects.models import Membership, Project
from tests.support import ROOT
from tests.support.browser import chromium, idp_login
from tests.support.cli import LATCHKEY, approve_in_django, cli_run
from tests.support.idp import idp_change, idp_paths_during, idp_reset, issuer, upstream_token
from tests.support.s3 import s3_error_code, wait_refused
from tests.support.secret_log_watch import SECRETS
from tests.support.workers import start_worker, stop_worker, subprocess_database_url

pytestmark = [pytest.mark.browser, pytest.mark.ceph]
GRACE = ("grace", "grace-pass", "5b0c7f0e-3d0a-4a55-9a57-2f1e6c1a9d42")  # idp/accounts.json: member of 8 and 9
ONLY_9 = ["urn:geant:myaccessid.org:group:latchkey:project_462000009:role=member#aai.myaccessid.org"]


@pytest.fixture(autouse=True)
def _idp_as_in_the_file() -> Iterator[None]:
    idp_reset()
    yield
    idp_reset()


def _projects() -> dict[str, Project]:
    suffix = secrets.token_hex(3)
    return {
        number: Project.objects.create(number=number, title=f"Project {number}", tenant=f"rc{number[-1]}{suffix}")
        for number in ("462000008", "462000009")
    }


def _grace_logs_in(live_server_url: str) -> User:
    connections.close_all()  # the live server's threads see what this test created
    with chromium() as browser:
        idp_login(browser.new_page(), live_server_url, user=GRACE[0], password=GRACE[1])
    return SocialAccount.objects.get(provider="myaccessid", uid=GRACE[2]).user


def _key(user: User, number: str):  # type: ignore[no-untyped-def]
    membership = Membership.objects.get(user=user, project__number=number)
    issued = key_create(membership=membership, hours=2, description=number)
    assert s3_error_code(issued.key.access_key_id, issued.secret) is None
    return issued


@pytest.mark.django_db(transaction=True)
def test_an_entitlement_removed_at_the_idp_ends_only_that_membership(live_server) -> None:  # type: ignore[no-untyped-def]
    _projects()
    user = _grace_logs_in(live_server.url)
    account = SocialAccount.objects.get(user=user)
    grant = UpstreamGrant.objects.get(account=account)
    first_token = unseal(grant.sealed_refresh_token)
    assert first_token and first_token not in grant.sealed_refresh_token  # sealed, not stored as given
    SECRETS.add(first_token)  # and never logged: the suite's last test looks for it in every line
    in_8, in_9 = _key(user, "462000008"), _key(user, "462000009")

    idp_change("myaccessid", "grace", entitlements=ONLY_9)
    summary, asked = idp_paths_during(memberships_recheck)
    assert summary == {"myaccessid": {"ok": 1}}
    assert "/myaccessid/token" in asked and "/myaccessid/me" in asked and "/myaccessid/auth" not in asked

    assert wait_refused(in_8.key.access_key_id, in_8.secret) == "InvalidAccessKeyId"
    assert s3_error_code(in_9.key.access_key_id, in_9.secret) is None
    assert Membership.objects.get(user=user, project__number="462000009").status == Membership.Status.ACTIVE
    assert not Membership.objects.filter(user=user, project__number="462000008", status=Membership.Status.ACTIVE)
    # The IdP rotates refresh tokens: the new one is kept, and works next time.
    grant.refresh_from_db()
    assert unseal(grant.sealed_refresh_token) != first_token and grant.outcome == UpstreamGrant.Outcome.OK
    SECRETS.add(unseal(grant.sealed_refresh_token))
    assert account_recheck(account=account) == "ok"
    assert s3_error_code(in_9.key.access_key_id, in_9.secret) is None
    # The spent one is worth nothing now, which is why losing the new one would lock her out.
    UpstreamGrant.objects.filter(pk=grant.pk).update(sealed_refresh_token=seal(first_token))
    assert s3_error_code(in_9.key.access_key_id, in_9.secret) is None
    assert account_recheck(account=account) == "refused"


@pytest.mark.django_db(transaction=True)
def test_a_provider_that_cannot_answer_changes_nothing(live_server, settings) -> None:  # type: ignore[no-untyped-def]
    _projects()
    user = _grace_logs_in(live_server.url)
    issued = _key(user, "462000008")
    apps = settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"]
    dead = [{**a, "settings": {**a["settings"], "server_url": "http://127.0.0.1:9/myaccessid"}} for a in apps]
    settings.SOCIALACCOUNT_PROVIDERS = {"openid_connect": {"APPS": dead}}

    assert memberships_recheck() == {"myaccessid": {"unavailable": 1}}
    assert UpstreamGrant.objects.get(account__user=user).outcome == UpstreamGrant.Outcome.UNAVAILABLE
    assert s3_error_code(issued.key.access_key_id, issued.secret) is None
    assert Membership.objects.filter(user=user, status=Membership.Status.ACTIVE).count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("many_device_logins")
def test_a_person_disabled_at_the_idp_loses_keys_and_cli_within_one_recheck(live_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The whole path as it runs: a real worker and beat re-checking every 5 s; no browser
    login between the IdP disabling grace and S3 refusing her key."""
    _projects()
    user = _grace_logs_in(live_server.url)
    issued = _key(user, "462000008")
    assert approve_in_django(live_server.url, tmp_path, user, "confirm").returncode == 0
    assert "462000008" in cli_run(tmp_path, LATCHKEY, "projects").stdout
    assert Token.objects.filter(user=user).exists()

    interval = 5
    env = {"LATCHKEY_MEMBERSHIP_RECHECK_SECONDS": str(interval)}
    worker = start_worker(env)
    beat = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "beat", "-l", "INFO", "-s", str(tmp_path / "beat-schedule")],
        cwd=ROOT,
        env={**os.environ, "LATCHKEY_DATABASE_URL": subprocess_database_url(), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def disable_and_wait() -> tuple[float, str | None]:
            idp_change("myaccessid", "grace", disabled=True)
            started = time.monotonic()
            # One interval until beat sends the re-check, then the run itself; the slack is
            # for a 2-core machine busy with Ceph, not for a second interval.
            code = wait_refused(issued.key.access_key_id, issued.secret, timeout=interval + 25)
            # Once, a gateway's first refusal was AccessDenied (its cache caught the key's and the
            # subuser's removals apart); refused is not enough here: the key must end up gone.
            while code == "AccessDenied" and time.monotonic() - started < interval + 25:
                time.sleep(0.1)
                code = wait_refused(issued.key.access_key_id, issued.secret)
            return time.monotonic() - started, code

        (elapsed, code), asked = idp_paths_during(disable_and_wait)
        assert code == "InvalidAccessKeyId", f"S3 still accepts the key after {elapsed:.0f} s"
        assert worker.poll() is None and beat.poll() is None
    finally:
        beat.terminate()
        beat.wait(timeout=15)
        stop_worker(worker)
    assert "/myaccessid/token" in asked  # the refresh the IdP refused
    assert not [p for p in asked if p.startswith(("/myaccessid/auth", "/myaccessid/interaction"))]  # no login

    key = AccessKey.objects.get(pk=issued.key.pk)
    assert key.status == AccessKey.Status.REVOKED
    assert not Membership.objects.filter(user=user, status=Membership.Status.ACTIVE).exists()
    # The refusal is kept (without the token): nothing of hers counts until she logs in again.
    grant = UpstreamGrant.objects.get(account__user=user)
    assert grant.outcome == UpstreamGrant.Outcome.REFUSED and grant.sealed_refresh_token == ""
    assert not Token.objects.filter(user=user).exists()
    refused = cli_run(tmp_path, LATCHKEY, "projects", check=False)
    assert refused.returncode != 0 and "latchkey login" in (refused.stdout + refused.stderr)
    assert Heartbeat.objects.get(name=RECHECK).summary["myaccessid"]["refused"] == 1


@pytest.mark.django_db(transaction=True)
def test_a_refused_person_loses_every_membership_and_session_and_no_token_brings_them_back(live_server) -> None:  # type: ignore[no-untyped-def]
    """M3 and H2: grace's IdP disables her. Her only identity is refused, so every membership
    ends, the one an invitation gave too; her open browser session ends; the JWT she fetched
    before is refused and recreates nothing; until she logs in again, once the IdP lets her."""
    projects = _projects()
    outside = Project.objects.create(number="462000007", title="Invited", tenant=f"rci{secrets.token_hex(3)}")
    user = _grace_logs_in(live_server.url)
    invited = Membership.objects.create(user=user, project=outside, role="member", source="latchkey")
    issued = _key(user, "462000008")
    stale = upstream_token(issuer("myaccessid"), GRACE[0], GRACE[1])  # her JWT, kept for later
    api = f"{live_server.url}/api/v1/projects/"
    assert len(requests.get(api, headers={"Authorization": f"Bearer {stale}"}, timeout=10).json()) == 3
    connections.close_all()
    with chromium() as browser:
        page = browser.new_page()
        idp_login(page, live_server.url, user=GRACE[0], password=GRACE[1])  # an open browser session

        idp_change("myaccessid", "grace", disabled=True)
        account = SocialAccount.objects.get(user=user)
        assert account_recheck(account=account) == "refused"
        assert wait_refused(issued.key.access_key_id, issued.secret) in ("InvalidAccessKeyId", "AccessDenied")
        assert not Membership.objects.filter(user=user).exists()
        assert not Membership.objects.filter(pk=invited.pk).exists()
        connections.close_all()
        page.goto(live_server.url + "/projects/")
        expect(page.get_by_role("heading", name="Log in to Latchkey")).to_be_visible()  # the session ended
        cache.clear()
        answer = requests.get(api, headers={"Authorization": f"Bearer {stale}"}, timeout=10)
        assert answer.status_code == 401 and "refused this account" in answer.json()["detail"]
        made = requests.post(
            f"{api}462000008/keys/", json={"hours": 168}, headers={"Authorization": f"Bearer {stale}"}, timeout=10
        )
        assert made.status_code == 401
        assert not Membership.objects.filter(user=user).exists()
        # The refusal stands without asking the IdP again.
        outcome, asked = idp_paths_during(lambda: account_recheck(account=account))
        assert outcome == "refused" and asked == []

        # The IdP lets her in again and she logs in: her memberships come back from that login.
        idp_reset()
        idp_login(browser.new_page(), live_server.url, user=GRACE[0], password=GRACE[1])  # a new browser
    connections.close_all()
    assert UpstreamGrant.objects.get(account=account).outcome == ""
    assert sorted(Membership.objects.filter(user=user).values_list("project__number", flat=True)) == sorted(projects)
    cache.clear()
    assert requests.get(api, headers={"Authorization": f"Bearer {stale}"}, timeout=10).status_code == 200
