"""make run's demo operator: made by demo_projects where LATCHKEY_DEBUG is set, never elsewhere,
and able to reach the operators' overview and the admin with the password the README gives."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_demo_operator_reaches_the_overview_with_the_readmes_password() -> None:
    with override_settings(DEBUG=True):
        call_command("demo_projects", stdout=StringIO())
        call_command("demo_projects", stdout=StringIO())  # again: nothing new, nothing refused
    operator = get_user_model().objects.get(username="operator")
    assert operator.is_staff and operator.is_superuser and operator.is_active
    client = Client()
    login = client.post(reverse("admin:login"), {"username": "operator", "password": "operator-pass"})
    assert login.status_code == 302
    overview = client.get(reverse("operators:overview"))
    assert overview.status_code == 200 and b"<h1>" in overview.content
    assert client.get(reverse("admin:index")).status_code == 200


def test_no_demo_operator_without_debug() -> None:
    out = StringIO()
    with override_settings(DEBUG=False):
        call_command("demo_projects", stdout=out)
    assert not get_user_model().objects.filter(username="operator").exists()
    assert "no demo operator" in out.getvalue()


def test_a_database_that_once_ran_the_demo_keeps_no_known_password() -> None:
    with override_settings(DEBUG=True):
        call_command("demo_projects", stdout=StringIO())
    with override_settings(DEBUG=False):
        call_command("demo_projects", stdout=StringIO())
    assert not get_user_model().objects.get(username="operator").has_usable_password()
    login = Client().post(reverse("admin:login"), {"username": "operator", "password": "operator-pass"})
    assert login.status_code == 200  # the form again: refused
