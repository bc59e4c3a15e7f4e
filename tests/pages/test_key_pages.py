"""Key page, extend, edit, reveal and audit views: authorization, bad input, secrets."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from keys.models import AccessKey, KeyEvent
from lifecycle.keys import key_create
from projects.models import Membership, Role
from storage import client as storage
from tests.support import CAST
from tests.support.web import client_for

pytestmark = [pytest.mark.django_db, pytest.mark.ceph]


@pytest.fixture
def owned(project, cast):  # type: ignore[no-untyped-def]
    owner = Membership.objects.get(project=project, role=Role.MEMBER)
    return key_create(membership=owner, hours=2, description="owned by the member")


LOGIN = "login"
NOT_OWNER = dict(outsider=404, **{"read-only": 404}, deputy=404, manager=404, operator=404)
MATRIX = {
    "detail": dict(anonymous=LOGIN, member=200, **NOT_OWNER),
    "extend": dict(anonymous=LOGIN, member=302, **NOT_OWNER),
    "edit": dict(anonymous=LOGIN, member=302, **NOT_OWNER),
    "reveal": dict(anonymous=LOGIN, member=403, **NOT_OWNER),  # 403: asks for a fresh login first
    "audit": dict(
        anonymous=LOGIN, outsider=404, **{"read-only": 200}, member=200, deputy=200, manager=200, operator=404
    ),
    "audit_csv": dict(
        anonymous=LOGIN, outsider=404, **{"read-only": 200}, member=200, deputy=200, manager=200, operator=404
    ),
}


def _call(view: str, client: Client, project, key: AccessKey):  # type: ignore[no-untyped-def]
    args = [project.number, key.access_key_id]
    if view == "detail":
        return client.get(reverse("keys:detail", args=args))
    if view == "extend":
        return client.post(reverse("keys:extend", args=args), {"hours": "5"})
    if view == "edit":
        return client.post(reverse("keys:edit", args=args), {"description": "renamed"})
    if view == "reveal":
        return client.post(reverse("keys:reveal", args=args))
    return client.get(reverse(f"keys:{view}", args=[project.number]))


@pytest.mark.parametrize("view", list(MATRIX))
@pytest.mark.parametrize("who", CAST)
def test_authorization_matrix(view: str, who: str, project, cast, owned) -> None:  # type: ignore[no-untyped-def]
    before = AccessKey.objects.filter(pk=owned.key.pk).values().get()
    response = _call(view, client_for(cast[who]), project, owned.key)
    expected = MATRIX[view][who]
    if expected == LOGIN:
        assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    else:
        assert response.status_code == expected
    changed = AccessKey.objects.filter(pk=owned.key.pk).values().get() != before
    assert changed == (who == "member" and view in ("extend", "edit"))
    assert not KeyEvent.objects.filter(action=KeyEvent.Action.REVEAL).exists()


def test_key_page_shows_the_facts(project, cast, owned) -> None:  # type: ignore[no-untyped-def]
    page = client_for(cast["member"]).get(reverse("keys:detail", args=[project.number, owned.key.access_key_id]))
    html = page.content.decode()
    for text in (owned.key.access_key_id, "owned by the member", project.number, "Expires", "Last extended", "never"):
        assert text in html
    assert owned.secret not in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"hours": "169"}, "at most 168 hours"),
        ({"hours": "0"}, "at least 1 hour"),
        ({"hours": "1e9"}, "whole number of hours"),
        ({"hours": ""}, "Enter a duration"),
        ({"hours": "1"}, "already expires later"),
        ({}, "Enter a duration"),
    ],
)
def test_bad_extension_is_refused_and_changes_nothing(project, cast, owned, data, message) -> None:  # type: ignore[no-untyped-def]
    before = AccessKey.objects.filter(pk=owned.key.pk).values().get()
    response = client_for(cast["member"]).post(
        reverse("keys:extend", args=[project.number, owned.key.access_key_id]), data
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert AccessKey.objects.filter(pk=owned.key.pk).values().get() == before


@pytest.mark.parametrize("description", ["<i>x</i>", "", "x" * 201])
def test_bad_description_edit_changes_nothing(project, cast, owned, description: str) -> None:  # type: ignore[no-untyped-def]
    url = reverse("keys:edit", args=[project.number, owned.key.access_key_id])
    assert client_for(cast["member"]).post(url, {"description": description}).status_code == 400
    assert AccessKey.objects.get(pk=owned.key.pk).description == "owned by the member"


def test_someone_elses_key_or_a_made_up_id_is_404(project, cast, owned) -> None:  # type: ignore[no-untyped-def]
    manager = client_for(cast["manager"], fresh_login=True)
    for name in ("keys:detail", "keys:delete"):
        assert manager.get(reverse(name, args=[project.number, owned.key.access_key_id])).status_code == 404
    member = client_for(cast["member"])
    assert member.get(reverse("keys:detail", args=[project.number, "LKNOTAREALKEY0000000"])).status_code == 404
    assert member.get(reverse("keys:detail", args=["000000001", owned.key.access_key_id])).status_code == 404


def test_reveal_without_fresh_login_asks_for_one_and_reveals_nothing(project, cast, owned) -> None:  # type: ignore[no-untyped-def]
    response = client_for(cast["member"]).post(reverse("keys:reveal", args=[project.number, owned.key.access_key_id]))
    assert response.status_code == 403
    html = response.content.decode()
    assert owned.secret not in html
    assert "auth_params=prompt%3Dlogin%26max_age%3D0" in html and "/accounts/oidc/myaccessid/login/" in html


def test_reveal_after_fresh_login_shows_the_secret_from_ceph_and_is_audited(project, cast, owned) -> None:  # type: ignore[no-untyped-def]
    client = client_for(cast["member"], fresh_login=True)
    response = client.post(
        reverse("keys:reveal", args=[project.number, owned.key.access_key_id]), REMOTE_ADDR="198.51.100.4"
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert owned.secret in response.content.decode()
    assert storage.key_secret(tenant=project.tenant, access_key=owned.key.access_key_id) == owned.secret
    event = KeyEvent.objects.get(action=KeyEvent.Action.REVEAL)
    assert (event.actor, event.ip, event.detail) == (cast["member"], "198.51.100.4", "")


def test_shown_once_policy_never_reveals(project, cast, owned, settings) -> None:  # type: ignore[no-untyped-def]
    settings.LATCHKEY_REVEAL_POLICY = "never"
    client = client_for(cast["member"], fresh_login=True)
    response = client.post(reverse("keys:reveal", args=[project.number, owned.key.access_key_id]), follow=True)
    html = response.content.decode()
    assert "only once" in html and owned.secret not in html
    assert not KeyEvent.objects.filter(action=KeyEvent.Action.REVEAL).exists()


def test_audit_shows_managers_everything_and_members_their_own(project, cast, owned) -> None:  # type: ignore[no-untyped-def]
    reader = Membership.objects.get(project=project, role=Role.READ_ONLY)
    own = key_create(membership=reader, hours=1, description="reader's own")
    manager_csv = client_for(cast["manager"]).get(reverse("keys:audit_csv", args=[project.number])).content.decode()
    reader_csv = client_for(cast["read-only"]).get(reverse("keys:audit_csv", args=[project.number])).content.decode()
    assert owned.key.access_key_id in manager_csv and own.key.access_key_id in manager_csv
    assert owned.key.access_key_id not in reader_csv and own.key.access_key_id in reader_csv
    assert manager_csv.splitlines()[0] == "time,action,access_key_id,key_owner,actor,ip,detail"
    assert owned.secret not in manager_csv


def test_audit_csv_neutralises_spreadsheet_formulas(project, cast) -> None:  # type: ignore[no-untyped-def]
    member = Membership.objects.get(project=project, role=Role.MEMBER)
    key = key_create(membership=member, hours=1, description="=SUM(1)").key
    client_for(cast["member"]).post(
        reverse("keys:edit", args=[project.number, key.access_key_id]), {"description": "x"}
    )
    rows = (
        client_for(cast["manager"]).get(reverse("keys:audit_csv", args=[project.number])).content.decode().splitlines()
    )
    edit_row = next(row for row in rows if ",edit," in row)
    assert edit_row.endswith(",'=SUM(1) -> x")


def test_key_list_shows_only_the_members_own_live_keys(project, member_of) -> None:  # type: ignore[no-untyped-def]
    from django.urls import reverse

    from keys.services import key_delete
    from lifecycle.keys import key_create
    from tests.support.web import client_for

    alice, bob = member_of(project, username="alice"), member_of(project, username="bob")
    mine = key_create(membership=alice, hours=2, description="mine").key
    gone = key_create(membership=alice, hours=2, description="gone").key
    key_delete(key=gone, actor=alice.user)
    theirs = key_create(membership=bob, hours=2, description="theirs").key
    page = client_for(alice.user).get(reverse("keys:list", args=[project.number]))
    body = page.content.decode()
    assert page.status_code == 200 and mine.access_key_id in body
    assert gone.access_key_id not in body and theirs.access_key_id not in body
    assert f'href="/projects/{project.number}/keys/{mine.access_key_id}/"' in body
