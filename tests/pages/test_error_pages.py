"""Latchkey's own error pages (templates/400, 403, 403_csrf, 404.html): a clear message in the
site's layout, and a 404 that says nothing about whether another project exists."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.support.web import client_for

pytestmark = pytest.mark.django_db


def _without_csrf(page: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", page)  # masked anew on every page


def test_an_outsider_gets_the_same_404_for_a_real_and_a_missing_project(project, cast) -> None:  # type: ignore[no-untyped-def]
    outsider = client_for(cast["outsider"])
    real = outsider.get(reverse("projects:detail", args=[project.number]))
    missing = outsider.get(reverse("projects:detail", args=["999999999999"]))
    assert real.status_code == missing.status_code == 404
    assert _without_csrf(real.content) == _without_csrf(missing.content)
    assert "<h1>Not found</h1>" in real.content.decode() and project.title not in real.content.decode()


def test_a_read_only_member_is_told_why_not(project, cast) -> None:  # type: ignore[no-untyped-def]
    response = client_for(cast["read-only"]).get(reverse("buckets:create", args=[project.number]))
    assert response.status_code == 403
    page = response.content.decode()
    assert "<h1>Not allowed</h1>" in page and "Your role in this project does not allow this." in page


def test_a_form_without_its_csrf_token_is_refused_with_a_clear_page(project, cast) -> None:  # type: ignore[no-untyped-def]
    client = client_for(cast["member"])
    client.handler.enforce_csrf_checks = True
    response = client.post(reverse("keys:create", args=[project.number]), {"hours": "1", "description": "x"})
    assert response.status_code == 403
    assert "The form has expired" in response.content.decode() and "nothing was done" in response.content.decode()


def test_an_unknown_host_gets_the_400_page() -> None:
    response = Client(HTTP_HOST="evil.example").get("/")
    assert response.status_code == 400 and "<h1>Bad request</h1>" in response.content.decode()


def test_a_failed_idp_login_explains_and_offers_another_try() -> None:
    response = Client().get("/accounts/oidc/myaccessid/login/callback/?error=access_denied&state=x")
    page = response.content.decode()
    assert "<h1>Login did not complete</h1>" in page
    assert f'href="{reverse("account_login")}"' in page and "access_denied" not in page
