"""The path a new user takes, for real: browser → portal → IdP → portal → Ceph → rclone."""

from __future__ import annotations

import filecmp
import os
import re
import secrets
import subprocess
import time
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import expect

from keys.models import AccessKey
from projects.models import Membership, Project, Role
from projects.services import storage_model_for_new
from tests.support.browser import ARTIFACTS, chromium, idp_login, save_downloads_where_chromium_names_them
from tests.support.s3 import wait_refused

pytestmark = [pytest.mark.browser, pytest.mark.ceph]

# From idp/accounts.json: alice of MyAccessID (test) manages 462000008 and is a member of 462000009.
ALICE = ("alice", "alice-pass")


def _demo_project(number: str, title: str, tenant: str) -> Project:
    """A demo project where the stack puts new ones (an RGW account on Ceph 19 and later)."""
    return Project.objects.create(number=number, title=title, tenant=tenant, storage_model=storage_model_for_new())


def _rclone(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # rclone 1.60 fails on every command while AWS_CA_BUNDLE is set (this machine sets it, as
    # many HPC login nodes do); the config page tells users to unset it.
    env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
    return subprocess.run(
        ["rclone", "--config", str(config), "--contimeout", "10s", "--timeout", "30s", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


@pytest.mark.django_db(transaction=True)
def test_login_create_key_download_rclone_config_and_use_it(live_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # Tenants are unique per run: Ceph outlives the test database.
    suffix = secrets.token_hex(4)
    _demo_project("462000008", "Climate ensemble", f"e2e{suffix}")
    _demo_project("462000009", "Genome assembly", f"e2f{suffix}")
    ARTIFACTS.mkdir(exist_ok=True)

    with chromium() as browser:
        context = browser.new_context(
            accept_downloads=True,
            viewport={"width": 375, "height": 800},
            permissions=["clipboard-read", "clipboard-write"],
        )
        page = context.new_page()
        page.goto(live_server.url + "/")

        # The provider choice, as on auth.lumidata.eu.
        expect(page.get_by_role("heading", name="Log in to Latchkey")).to_be_visible()
        expect(page.get_by_role("button", name="HAKA (test)")).to_be_visible()
        page.get_by_role("button", name="MyAccessID (test)").click()

        # The IdP's own login page.
        expect(page.get_by_role("heading", name="MyAccessID (test)")).to_be_visible()
        page.get_by_label("Username").fill(ALICE[0])
        page.get_by_label("Password").fill(ALICE[1])
        page.get_by_role("button", name="Sign in").click()

        # Back in Latchkey: the projects the entitlements grant.
        expect(page.get_by_role("heading", name="Your projects")).to_be_visible()
        row = page.get_by_role("row", name="462000008")
        expect(row).to_contain_text("Manager")
        expect(page.get_by_role("row", name="462000009")).to_contain_text("Member")
        page.screenshot(path=str(ARTIFACTS / "projects.png"), full_page=True)
        page.get_by_role("link", name="462000008").click()

        page.get_by_label("Key description").fill("e2e rclone test")
        page.get_by_label("Duration (hours)").fill("2")
        page.get_by_role("button", name="Generate key").click()
        expect(page.get_by_role("heading", name="Key created")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "key-created.png"), full_page=True)
        access_key = page.locator("#access-key").inner_text().strip()
        secret = page.locator("#secret-key").inner_text().strip()
        page.get_by_role("button", name="Copy secret key").click()
        expect(page.locator("#secret-key-status")).to_have_text("Copied.")
        assert page.evaluate("navigator.clipboard.readText()") == secret

        with page.expect_download() as download_info:
            page.get_by_role("link", name="Download rclone.conf").click()
        download = download_info.value
        assert download.suggested_filename == "rclone.conf"
        config = tmp_path / "rclone.conf"
        download.save_as(config)

        # Every file downloads under the name the page promises, as Chromium itself saves it (for
        # text/plain data: links it added .txt to credentials, config and s3cfg).
        saved = tmp_path / "downloads"
        saved.mkdir()
        save_downloads_where_chromium_names_them(page, saved)
        sections = page.locator("details")
        for i in range(sections.count()):  # open each client's section, as a user would
            if sections.nth(i).get_attribute("open") is None:
                sections.nth(i).locator("summary").click()
        links = page.get_by_role("link", name=re.compile(r"^Download "))
        expected = {}
        for i in range(links.count()):
            link = links.nth(i)
            expected[link.get_attribute("download")] = link.locator("xpath=../..").locator("textarea").input_value()
            link.click()
        deadline = time.monotonic() + 20
        while {p.name for p in saved.iterdir()} != set(expected) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sorted(p.name for p in saved.iterdir()) == sorted(expected)
        assert {"credentials", "config", "s3cfg", "rclone.conf"} <= set(expected)
        for name, content in expected.items():
            assert (saved / name).read_text() == content, name
        expect(page.get_by_text("Browsers save the download as s3cfg")).to_contain_text("~/.s3cfg")
        context.close()

    key = AccessKey.objects.get(access_key_id=access_key)
    assert key.status == AccessKey.Status.ACTIVE
    assert key.description == "e2e rclone test"
    assert (key.expires_at - key.created_at).total_seconds() == 2 * 3600
    assert Membership.objects.get(user=key.owner, project__number="462000008").role == Role.MANAGER
    assert secret in config.read_text()

    # The real rclone with exactly the downloaded file: a new bucket, a file in and back out.
    remote = "latchkey-462000008"
    bucket = f"e2e-{suffix}"
    payload = tmp_path / "payload.bin"
    payload.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    back = tmp_path / "back.bin"
    for args in (
        ("mkdir", f"{remote}:{bucket}"),
        ("copyto", str(payload), f"{remote}:{bucket}/data/payload.bin"),
        ("copyto", f"{remote}:{bucket}/data/payload.bin", str(back)),
    ):
        result = _rclone(config, *args)
        assert result.returncode == 0, result.stderr
    assert filecmp.cmp(payload, back, shallow=False)
    listing = _rclone(config, "lsf", "-R", f"{remote}:{bucket}")
    assert sorted(listing.stdout.split()) == ["data/", "data/payload.bin"]

    # Deleting the key in Latchkey makes the same config stop working.
    from keys.services import key_delete

    key_delete(key=key, actor=key.owner)
    assert wait_refused(access_key, secret) == "InvalidAccessKeyId"
    assert _rclone(config, "lsf", f"{remote}:{bucket}").returncode != 0


@pytest.mark.django_db(transaction=True)
def test_same_person_through_two_providers_gets_two_separate_accounts(live_server) -> None:  # type: ignore[no-untyped-def]
    suffix = secrets.token_hex(4)
    _demo_project("462000008", "Climate ensemble", f"e2g{suffix}")
    _demo_project("462000010", "Language corpus", f"e2h{suffix}")

    def login(page, provider: str) -> None:  # type: ignore[no-untyped-def]
        idp_login(page, live_server.url, provider, *ALICE)

    with chromium() as browser:
        page = browser.new_page()
        login(page, "MyAccessID (test)")
        expect(page.get_by_role("link", name="462000008")).to_be_visible()
        expect(page.get_by_role("link", name="462000010")).to_have_count(0)
        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_role("heading", name="Log in to Latchkey")).to_be_visible()
        # Logged out: the projects page asks for a login again.
        page.goto(live_server.url + "/projects/")
        expect(page.get_by_role("heading", name="Log in to Latchkey")).to_be_visible()

        login(page, "HAKA (test)")
        expect(page.get_by_role("link", name="462000010")).to_be_visible()
        expect(page.get_by_role("link", name="462000008")).to_have_count(0)

    # Same e-mail address, two identities, two accounts: never merged by address.
    from allauth.socialaccount.models import SocialAccount

    accounts = SocialAccount.objects.filter(user__email="alice@example.org")
    assert sorted(a.provider for a in accounts) == ["haka", "myaccessid"]
    assert len({a.user_id for a in accounts}) == 2
    assert Membership.objects.get(project__number="462000010").user.socialaccount_set.get().provider == "haka"


@pytest.mark.django_db(transaction=True)
def test_a_provider_is_believed_only_inside_its_namespace_and_projects(live_server, caplog) -> None:  # type: ignore[no-untyped-def]
    """mallory at the HAKA issuer claims manager of 462000008 in MyAccessID's namespace, in HAKA's
    own namespace (outside HAKA's projects), upper-cased, and in a look-alike group: she gets nothing."""
    suffix = secrets.token_hex(4)
    _demo_project("462000008", "Climate ensemble", f"e2n{suffix}")
    _demo_project("462000010", "Language corpus", f"e2m{suffix}")
    with chromium() as browser:
        page = browser.new_page()
        idp_login(page, live_server.url, "HAKA (test)", "mallory", "mallory-pass")
        expect(page.get_by_role("link", name="462000008")).to_have_count(0)
        expect(page.get_by_role("link", name="462000010")).to_have_count(0)
        assert page.goto(live_server.url + "/projects/462000008/").status == 404  # type: ignore[union-attr]
    assert not Membership.objects.exists()
    ignored = [r.getMessage() for r in caplog.records if "outside what it is trusted for" in r.getMessage()]
    assert len(ignored) == 1 and "haka asserted 4 entitlements" in ignored[0]


@pytest.mark.django_db(transaction=True)
def test_reveal_requires_signing_in_again_at_the_idp(live_server, settings) -> None:  # type: ignore[no-untyped-def]
    settings.LATCHKEY_REAUTH_SECONDS = 30
    suffix = secrets.token_hex(4)
    _demo_project("462000008", "Climate ensemble", f"e2r{suffix}")

    with chromium() as browser:
        page = browser.new_page()
        idp_login(page, live_server.url, "MyAccessID (test)", *ALICE)
        page.get_by_role("link", name="462000008").click()
        page.get_by_label("Key description").fill("reveal me")
        page.get_by_label("Duration (hours)").fill("3")
        page.get_by_role("button", name="Generate key").click()
        secret = page.locator("#secret-key").inner_text().strip()
        access_key = page.locator("#access-key").inner_text().strip()

        # The login is older than the allowed window: Latchkey sends the user back to the IdP,
        # which asks for the password again although its session is still alive.
        key = AccessKey.objects.get(access_key_id=access_key)
        from django.contrib.sessions.models import Session

        for session in Session.objects.all():
            data = session.get_decoded()
            data["latchkey_auth_at"] -= 3600
            session.session_data = Session.objects.encode(data)
            session.save()
        # Inside Playwright's sync API the ORM runs in another context and opened its own
        # connection; close it, or it holds the test database open at teardown.
        connections.close_all()
        page.goto(f"{live_server.url}/projects/462000008/keys/{access_key}/")
        expect(page.get_by_text("Last extended")).to_be_visible()
        page.get_by_role("button", name="Show secret key and client configs").click()
        expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
        assert secret not in page.content()
        page.get_by_role("button", name="Sign in again").click()
        expect(page.get_by_label("Password")).to_be_visible()  # prompt=login: asked again
        page.get_by_label("Password").fill(ALICE[1])
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name=f"Key {access_key}")).to_be_visible()
        page.get_by_role("button", name="Show secret key and client configs").click()
        expect(page.get_by_role("heading", name="Secret key")).to_be_visible()
        assert page.locator("#secret-key").inner_text().strip() == secret
        page.screenshot(path=str(ARTIFACTS / "key-detail-reveal.png"), full_page=True)

    from keys.models import KeyEvent

    assert KeyEvent.objects.filter(key=key, action=KeyEvent.Action.REVEAL).count() == 1
