"""Rate limits on key creation and reveals (per user, pages and API alike) and on login
callbacks (per address): past the limit a 429 with a clear message, and nothing is done."""

from __future__ import annotations

import ipaddress

import pytest
from django.test import Client
from django.urls import reverse

from keys.models import AccessKey, KeyEvent
from lifecycle.keys import key_create
from tests.support.web import client_for

pytestmark = [pytest.mark.django_db, pytest.mark.ceph]


@pytest.fixture(autouse=True)
def _low_limits(settings) -> None:  # type: ignore[no-untyped-def]
    settings.LATCHKEY_RATE_LIMITS = {
        "key_create": "2/600",
        "reveal": "1/600",
        "login_callback": "3/60",
        "admin_login": "3/600",
    }
    settings.LATCHKEY_KEY_MAX_ACTIVE = 100


def test_key_creation_is_limited_per_user(project, member_of) -> None:  # type: ignore[no-untyped-def]
    alice, bob = member_of(project, username="alice"), member_of(project, username="bob")
    url = reverse("keys:create", args=[project.number])
    client = client_for(alice.user)
    assert [client.post(url, {"hours": "1", "description": "j"}).status_code for _ in range(2)] == [200, 200]
    third = client.post(url, {"hours": "1", "description": "j"})
    assert third.status_code == 429 and int(third["Retry-After"]) > 0
    assert "Too many new keys" in third.content.decode()
    assert AccessKey.objects.filter(owner=alice.user).count() == 2
    assert client_for(bob.user).post(url, {"hours": "1", "description": "j"}).status_code == 200  # per user


def test_reveal_is_limited_per_user(project, member_of) -> None:  # type: ignore[no-untyped-def]
    membership = member_of(project)
    key = key_create(membership=membership, hours=1, description="r").key
    client = client_for(membership.user, fresh_login=True)
    url = reverse("keys:reveal", args=[project.number, key.access_key_id])
    assert client.post(url).status_code == 200
    assert client.post(url).status_code == 429
    assert KeyEvent.objects.filter(key=key, action=KeyEvent.Action.REVEAL).count() == 1


def test_login_callbacks_are_limited_per_address() -> None:
    url = "/accounts/oidc/myaccessid/login/callback/?code=x&state=y"
    statuses = [Client(REMOTE_ADDR="192.0.2.7").get(url).status_code for _ in range(4)]
    assert statuses[:3] != [429] * 3 and statuses[3] == 429
    assert Client(REMOTE_ADDR="192.0.2.8").get(url).status_code != 429


def test_admin_password_tries_are_limited_per_address(make_user) -> None:  # type: ignore[no-untyped-def]
    """L10: the Django admin's own login form, which takes passwords."""
    operator = make_user("operator", is_staff=True)
    operator.set_password("right-password")
    operator.save()
    guesses = [
        Client(REMOTE_ADDR="192.0.2.9").post("/admin/login/", {"username": operator.username, "password": f"guess{n}"})
        for n in range(3)
    ]
    assert [g.status_code for g in guesses] == [200, 200, 200]  # the form again, with its error
    fourth = Client(REMOTE_ADDR="192.0.2.9").post(
        "/admin/login/", {"username": operator.username, "password": "right-password"}
    )
    assert fourth.status_code == 429 and int(fourth["Retry-After"]) > 0
    assert Client(REMOTE_ADDR="192.0.2.9").get("/admin/login/").status_code == 200  # the form still shows
    other = Client(REMOTE_ADDR="192.0.2.10").post(
        "/admin/login/", {"username": operator.username, "password": "right-password"}
    )
    assert other.status_code == 302  # another address is not held back


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(settings) -> None:  # type: ignore[no-untyped-def]
    settings.LATCHKEY_TRUSTED_PROXIES = [ipaddress.ip_network("10.9.0.0/24")]
    url = "/accounts/oidc/myaccessid/login/callback/?code=x&state=y"

    def via_proxy(client_address: str, forged: str = "") -> int:
        xff = f"{forged}, {client_address}" if forged else client_address
        return Client(REMOTE_ADDR="10.9.0.2", HTTP_X_FORWARDED_FOR=xff).get(url).status_code

    assert [via_proxy("198.51.100.1") for _ in range(4)][3] == 429
    assert via_proxy("198.51.100.2") != 429  # not the proxy's shared address
    assert via_proxy("198.51.100.1", forged="203.0.113.9") == 429  # a forged left part changes nothing
    # Not from a trusted proxy: the header is the client's own words and is ignored.
    assert [
        Client(REMOTE_ADDR="192.0.2.50", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").get(url).status_code for i in range(4)
    ][3] == 429


@pytest.mark.usefixtures("many_device_logins")
def test_the_api_shares_the_limit(project, cast) -> None:  # type: ignore[no-untyped-def]
    from tests.support.api import Api, device_token

    api = Api(device_token(cast["member"]))
    path = f"projects/{project.number}/keys/"
    statuses = [api("POST", path, {"description": "j", "hours": 1}).status_code for _ in range(3)]
    assert statuses == [201, 201, 429]
    assert "throttled" in api("POST", path, {"description": "j", "hours": 1}).json()["detail"]
