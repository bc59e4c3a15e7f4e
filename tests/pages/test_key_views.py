"""Key pages through Django's test client, with real Ceph behind them."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from keys.models import AccessKey
from projects.models import Role
from storage import client as storage
from tests.support import CAST
from tests.support.s3 import s3_error_code
from tests.support.web import client_for

pytestmark = [pytest.mark.django_db, pytest.mark.ceph]


def _nothing_issued(project) -> bool:  # type: ignore[no-untyped-def]
    return not AccessKey.objects.filter(project=project).exists() and storage.keys_list(tenant=project.tenant) == []


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ("0", "at least 1 hour"),
        ("169", "at most 168 hours"),
        ("-1", "at least 1 hour"),
        ("abc", "whole number of hours"),
        ("2.5", "whole number of hours"),
        ("", "Enter a duration in hours"),
    ],
)
def test_bad_duration_is_refused_with_a_message(project, member_of, hours: str, message: str) -> None:  # type: ignore[no-untyped-def]
    client = client_for(member_of(project).user)
    response = client.post(reverse("keys:create", args=[project.number]), {"hours": hours, "description": "job"})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _nothing_issued(project)


@pytest.mark.parametrize(
    ("description", "message"),
    [
        ("x" * 201, "Keep the description to 200 characters (it has 201)"),
        ("<script>alert(1)</script>", "cannot contain"),
        ("<b>bold</b>", "cannot contain"),
        ("tab\x07bell", "control characters"),
        ("", "Describe what the key is for"),
        ("   ", "Describe what the key is for"),
    ],
)
def test_bad_description_is_refused_with_a_message(project, member_of, description: str, message: str) -> None:  # type: ignore[no-untyped-def]
    client = client_for(member_of(project).user)
    response = client.post(reverse("keys:create", args=[project.number]), {"hours": "2", "description": description})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _nothing_issued(project)


def test_project_the_user_is_not_in_is_404(project, member_of, make_user) -> None:  # type: ignore[no-untyped-def]
    member_of(project)
    client = client_for(make_user("stranger"))
    response = client.post(reverse("keys:create", args=[project.number]), {"hours": "2", "description": "job"})
    assert response.status_code == 404
    response = client.post(reverse("keys:create", args=["000000000"]), {"hours": "2", "description": "job"})
    assert response.status_code == 404
    assert _nothing_issued(project)


def test_create_shows_the_secret_once_and_a_working_rclone_config(project, member_of) -> None:  # type: ignore[no-untyped-def]
    membership = member_of(project)
    client = client_for(membership.user)
    response = client.post(reverse("keys:create", args=[project.number]), {"hours": "2", "description": "my job"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = AccessKey.objects.get(project=project)
    secret = response.context["secret"]
    body = response.content.decode()
    assert secret in body and key.access_key_id in body
    configs = {c.client: c.content for c, _ in response.context["configs"]}
    assert f"secret_access_key = {secret}" in configs["rclone"] and f"secret_key = {secret}" in configs["s3cmd"]
    assert s3_error_code(key.access_key_id, secret) is None
    # Later pages list the key but never show the secret again.
    page = client.get(reverse("projects:detail", args=[project.number])).content.decode()
    assert key.access_key_id in page and "my job" in page and secret not in page


def test_ceph_down_gives_a_clear_message_and_no_key(project, member_of, settings) -> None:  # type: ignore[no-untyped-def]
    client = client_for(member_of(project).user)
    settings.LATCHKEY_RGW_ADMIN_URL = "http://127.0.0.1:9"
    response = client.post(reverse("keys:create", args=[project.number]), {"hours": "2", "description": "job"})
    assert response.status_code == 400
    assert "storage service is not answering" in response.content.decode()
    assert not AccessKey.objects.exists()


def test_delete_asks_for_confirmation_then_revokes(project, member_of) -> None:  # type: ignore[no-untyped-def]
    membership = member_of(project)
    client = client_for(membership.user)
    client.post(reverse("keys:create", args=[project.number]), {"hours": "2", "description": "job"})
    key = AccessKey.objects.get()
    url = reverse("keys:delete", args=[project.number, key.access_key_id])
    confirm = client.get(url)
    assert confirm.status_code == 200 and "cannot be undone" in confirm.content.decode()
    assert AccessKey.objects.get().status == AccessKey.Status.ACTIVE
    response = client.post(url)
    assert response.status_code == 302
    assert AccessKey.objects.get().status == AccessKey.Status.REVOKED
    assert storage.keys_list(tenant=project.tenant) == []
    again = client.post(url, follow=True)  # already gone: a message, nothing changes
    assert "already ended" in again.content.decode()


# --- Authorization: every view by the fixed cast -------------------------------------------------

LOGIN = "login"
EXPECTED = {
    # view: {cast member: status}; LOGIN means a redirect to the login page.
    "project_list": dict(
        anonymous=LOGIN, outsider=200, **{"read-only": 200}, member=200, deputy=200, manager=200, operator=200
    ),
    "project_detail": dict(
        anonymous=LOGIN, outsider=404, **{"read-only": 200}, member=200, deputy=200, manager=200, operator=404
    ),
    "key_create": dict(
        anonymous=LOGIN, outsider=404, **{"read-only": 200}, member=200, deputy=200, manager=200, operator=404
    ),
    # A key belongs to its owner (the member); nobody else can see or delete it here.
    "key_delete_get": dict(
        anonymous=LOGIN, outsider=404, **{"read-only": 404}, member=200, deputy=404, manager=404, operator=404
    ),
    "key_delete_post": dict(
        anonymous=LOGIN, outsider=404, **{"read-only": 404}, member=302, deputy=404, manager=404, operator=404
    ),
}


def _request(view: str, client: Client, project, key: AccessKey):  # type: ignore[no-untyped-def]
    if view == "project_list":
        return client.get(reverse("projects:list"))
    if view == "project_detail":
        return client.get(reverse("projects:detail", args=[project.number]))
    if view == "key_create":
        return client.post(reverse("keys:create", args=[project.number]), {"hours": "1", "description": "cast"})
    url = reverse("keys:delete", args=[project.number, key.access_key_id])
    return client.get(url) if view == "key_delete_get" else client.post(url)


@pytest.mark.parametrize("view", list(EXPECTED))
@pytest.mark.parametrize("who", CAST)
def test_authorization_matrix(view: str, who: str, project, cast) -> None:  # type: ignore[no-untyped-def]
    from lifecycle.keys import key_create
    from projects.models import Membership

    owner = Membership.objects.get(project=project, role=Role.MEMBER)
    key = key_create(membership=owner, hours=1, description="owned by the member").key
    response = _request(view, client_for(cast[who]), project, key)
    expected = EXPECTED[view][who]
    if expected == LOGIN:
        assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    else:
        assert response.status_code == expected
    key.refresh_from_db()
    deleted = key.status == AccessKey.Status.REVOKED
    assert deleted == (view == "key_delete_post" and who == "member")


def test_state_changing_views_refuse_get(project, member_of) -> None:  # type: ignore[no-untyped-def]
    client = client_for(member_of(project).user)
    assert client.get(reverse("keys:create", args=[project.number])).status_code == 405


def test_configs_use_the_endpoint_chosen_from_the_sites_list(project, member_of, settings) -> None:  # type: ignore[no-untyped-def]
    settings.LATCHKEY_S3_ENDPOINTS = [
        ("internal", settings.LATCHKEY_S3_ENDPOINT),
        ("external", "https://s3.example.org"),
    ]
    client = client_for(member_of(project).user)
    url = reverse("keys:create", args=[project.number])
    form = {"hours": "2", "description": "job"}
    response = client.post(url, {**form, "endpoint": "external"})
    configs = {c.client: c.content for c, _ in response.context["configs"]}
    assert "endpoint = https://s3.example.org" in configs["rclone"]
    assert "host_base = s3.example.org\n" in configs["s3cmd"] and "use_https = True" in configs["s3cmd"]
    assert "export AWS_ENDPOINT_URL=https://s3.example.org" in configs["shell"]
    default = client.post(url, form)  # no choice: the site's first
    assert f"endpoint = {settings.LATCHKEY_S3_ENDPOINT}" in default.context["configs"][0][0].content
    bad = client.post(url, {**form, "endpoint": "elsewhere"})
    assert bad.status_code == 400 and "Choose one of the listed endpoints." in bad.content.decode()
    assert AccessKey.objects.filter(project=project).count() == 2
