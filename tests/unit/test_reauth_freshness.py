"""The freshness rule for revealing a secret: the IdP's auth_time, present, not in the future,
recent. Our own logic, so a plain session dict stands in for the request."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from accounts.signals import AUTH_AT, authenticated_within, remember_authentication

NOW = 1_800_000_000.0


def _request(at: object) -> SimpleNamespace:
    return SimpleNamespace(session={AUTH_AT: at})


@pytest.mark.parametrize(
    ("at", "fresh"),
    [
        (int(NOW) - 30, True),
        (int(NOW) - 600, True),
        (int(NOW) - 601, False),
        (int(NOW) + 30, True),  # the IdP's clock a little ahead
        (int(NOW) + 3600, False),  # a login "in the future" proves nothing
        (None, False),  # the IdP did not say when
        (True, False),
        ("1800000000", False),
    ],
)
def test_freshness(at: object, fresh: bool) -> None:
    assert authenticated_within(_request(at), 600, now=NOW) is fresh


@pytest.mark.parametrize(
    ("claims", "stored"),
    [
        ({"auth_time": 1_799_999_990}, 1_799_999_990),
        ({"auth_time": 1_799_999_990.7}, 1_799_999_990),
        ({}, None),  # no auth_time: not "now", as it used to be
        ({"auth_time": "yesterday"}, None),
        ({"auth_time": True}, None),
    ],
)
def test_login_stores_only_a_real_auth_time(claims: dict[str, object], stored: int | None) -> None:
    request = SimpleNamespace(session={})
    account = SimpleNamespace(extra_data={"id_token": claims}, provider="myaccessid")
    remember_authentication(None, request, None, sociallogin=SimpleNamespace(account=account))
    assert request.session[AUTH_AT] == stored
