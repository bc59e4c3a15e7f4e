"""The admin's new-project form and LATCHKEY_STORAGE_MODEL: it preselects where new projects go,
and when "auto" cannot ask Ceph it preselects nothing, says so, and refuses to guess."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portal.errors import Unavailable
from projects.models import Project
from tests.support.web import admin_project_form, client_for

pytestmark = pytest.mark.django_db


def _form(number: str, model: str) -> dict[str, str]:
    return admin_project_form(number=number, title="Admin-made", tenant=f"t{number}", storage_model=model)


def test_the_model_is_preselected_and_never_guessed_when_ceph_cannot_be_asked(make_user, monkeypatch, settings) -> None:  # type: ignore[no-untyped-def]
    client = client_for(make_user("op", is_staff=True, is_superuser=True))
    url = reverse("admin:projects_project_add")
    settings.LATCHKEY_STORAGE_MODEL = "account"
    assert '<option value="account" selected>' in client.get(url).content.decode()

    def unreachable() -> str:
        raise Unavailable("the storage service is not answering")

    monkeypatch.setattr("web.admin.projects.storage_model_for_new", unreachable)
    page = client.get(url).content.decode()
    assert '<option value="" selected>— choose —</option>' in page
    assert "could not be asked whether it has RGW accounts" in page
    refused = client.post(url, _form("777000001", ""))
    assert refused.status_code == 200 and "This field is required." in refused.content.decode()
    assert not Project.objects.filter(number="777000001").exists()
    assert client.post(url, _form("777000001", "tenant")).status_code == 302
    assert Project.objects.get(number="777000001").storage_model == "tenant"
