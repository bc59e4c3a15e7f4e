"""Hardening: `check --deploy` is clean with production settings, and every page carries the
security headers (a Content Security Policy that still lets the login reach the IdPs)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.test import Client

from tests.support import ROOT

PRODUCTION = {
    "LATCHKEY_DEBUG": "false",
    "LATCHKEY_SECRET_KEY": "x" * 30 + "production-like-secret-key-for-the-check",
    "LATCHKEY_ALLOWED_HOSTS": "latchkey.example.org",
}


def _production(*args: str) -> subprocess.CompletedProcess[str]:
    # The test stack's environment, minus its development switches (its signing key file stays).
    dev = ("LATCHKEY_SECURE_COOKIES", "LATCHKEY_DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")  # the last: set for Playwright
    env = {k: v for k, v in os.environ.items() if k not in dev}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**env, **PRODUCTION},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_with_production_settings() -> None:
    result = _production("manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_cookies_are_secure_and_http_only() -> None:
    code = (
        "import django; django.setup(); from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, "
        "s.SESSION_COOKIE_HTTPONLY, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT)"
    )
    result = _production("-c", code)
    assert result.stdout.split() == ["True", "True", "True", "True"], result.stderr


@pytest.mark.django_db
def test_pages_carry_the_security_headers() -> None:
    from django.conf import settings

    response = Client().get("/accounts/login/")
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    issuers = [app["settings"]["server_url"] for app in settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"]]
    assert all(url.split("/")[2] in csp for url in issuers)  # the login buttons redirect there
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
