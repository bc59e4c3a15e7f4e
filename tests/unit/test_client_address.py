"""portal.http.client_ip: X-Forwarded-For is believed only from LATCHKEY_TRUSTED_PROXIES."""

from __future__ import annotations

import ipaddress

import pytest
from django.test import RequestFactory

from portal.env import EnvError, env_networks
from portal.http import client_ip


@pytest.fixture
def proxies(settings):  # type: ignore[no-untyped-def]
    settings.LATCHKEY_TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/24"), ipaddress.ip_network("fd00::1/128")]


@pytest.mark.parametrize(
    ("peer", "xff", "expected"),
    [
        ("192.0.2.1", "198.51.100.7", "192.0.2.1"),  # an untrusted peer's header is ignored
        ("10.0.0.2", "198.51.100.7", "198.51.100.7"),
        ("10.0.0.2", "203.0.113.1, 198.51.100.7", "198.51.100.7"),  # the left part is the client's own words
        ("10.0.0.2", "203.0.113.1, 198.51.100.7, 10.0.0.3", "198.51.100.7"),  # two proxies of ours
        ("10.0.0.2", "", "10.0.0.2"),
        ("10.0.0.2", "not-an-address", "10.0.0.2"),
        ("10.0.0.2", "198.51.100.7, garbage, 10.0.0.3", "10.0.0.3"),  # stop at what a proxy wrote
        ("fd00::1", "2001:db8::5", "2001:db8::5"),
        ("", "198.51.100.7", None),
    ],
)
def test_client_ip(proxies, peer: str, xff: str, expected: str | None) -> None:  # type: ignore[no-untyped-def]
    request = RequestFactory().get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=xff)
    assert client_ip(request) == expected


def test_trusted_proxies_setting_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_NETS", "10.0.0.5, 192.168.10.0/24")
    assert [str(n) for n in env_networks("X_NETS")] == ["10.0.0.5/32", "192.168.10.0/24"]
    monkeypatch.setenv("X_NETS", "10.0.0.5, proxy.example.org")
    with pytest.raises(EnvError, match=r"'proxy\.example\.org' is not an IP address"):
        env_networks("X_NETS")
