"""Every URL of the site, pages and API, by the fixed cast. A URL added without an entry here
fails the test, so no view ships without its authorization being decided and checked. API
entries are "name METHOD" (one URL serves several methods), called with the browser session.
Every page any of them renders is also read for template text that reached it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import get_resolver, reverse

from buckets.grants import GrantRequest, grant_create
from buckets.groups import group_create
from buckets.services import bucket_create
from lifecycle.keys import key_create
from projects.members import invitation_create, join_request_create
from projects.models import Membership, Role
from tests.support import CAST
from tests.support.pages import assert_no_template_text

pytestmark = [pytest.mark.django_db, pytest.mark.ceph]

L = "login"  # a redirect to the login page


def row(
    anonymous: object,
    outsider: object,
    read_only: object,
    member: object,
    deputy: object,
    manager: object,
    operator: object,
) -> dict[str, object]:
    return dict(zip(CAST, [anonymous, outsider, read_only, member, deputy, manager, operator], strict=True))


OWNER_ONLY = row(L, 404, 404, 200, 404, 404, 404)
MANAGERS = row(L, 404, 403, 403, 302, 302, 404)
# name: (method, expected statuses); the member owns the key; "target" is a read-only member.
TABLE: dict[str, tuple[str, dict[str, object]]] = {
    "projects:list": ("GET", row(L, 200, 200, 200, 200, 200, 200)),
    "projects:join": ("GET", row(L, 200, 200, 200, 200, 200, 200)),
    "projects:detail": ("GET", row(L, 404, 200, 200, 200, 200, 404)),
    "projects:usage_refresh": ("POST", row(L, 404, 302, 302, 302, 302, 404)),
    "projects:usage_csv": ("GET", row(L, 404, 200, 200, 200, 200, 404)),
    "projects:approve": ("POST", MANAGERS),
    "projects:reject": ("POST", MANAGERS),
    "projects:invite": ("POST", MANAGERS),
    "projects:member_role": ("POST", MANAGERS),
    "projects:member_remove": ("GET", row(L, 404, 403, 403, 200, 200, 404)),
    "projects:invitation_accept": ("POST", row(L, 302, 404, 404, 404, 404, 404)),
    "projects:invitation_decline": ("POST", row(L, 302, 404, 404, 404, 404, 404)),
    "keys:list": ("GET", row(L, 404, 200, 200, 200, 200, 404)),
    "keys:create": ("POST", row(L, 404, 200, 200, 200, 200, 404)),
    "keys:detail": ("GET", OWNER_ONLY),
    "keys:extend": ("POST", row(L, 404, 404, 302, 404, 404, 404)),
    "keys:edit": ("POST", row(L, 404, 404, 302, 404, 404, 404)),
    "keys:reveal": ("POST", row(L, 404, 404, 403, 404, 404, 404)),
    "keys:delete": ("GET", OWNER_ONLY),
    "keys:audit": ("GET", row(L, 404, 200, 200, 200, 200, 404)),
    "keys:audit_csv": ("GET", row(L, 404, 200, 200, 200, 200, 404)),
    "buckets:create": ("GET", row(L, 404, 403, 200, 200, 200, 404)),
    "buckets:detail": ("GET", row(L, 404, 200, 200, 200, 200, 404)),
    "buckets:delete": ("GET", row(L, 404, 403, 403, 200, 200, 404)),
    "buckets:access": ("POST", MANAGERS),
    "buckets:left_out_dismiss": ("POST", MANAGERS),
    "buckets:grant_create": ("POST", MANAGERS),
    "buckets:grant_revoke": ("GET", row(L, 404, 403, 403, 200, 200, 404)),
    "buckets:policy": ("GET", row(L, 404, 200, 200, 200, 200, 404)),
    "buckets:usage_csv": ("GET", row(L, 404, 200, 200, 200, 200, 404)),
    # A link is signed with one's own key: only the key's owner can choose it (else a form error).
    "buckets:link": ("POST", row(L, 404, 400, 200, 400, 400, 404)),
    "buckets:groups": ("GET", row(L, 404, 200, 200, 200, 200, 404)),
    "buckets:group": ("GET", row(L, 404, 200, 200, 200, 200, 404)),
    "buckets:group_delete": ("GET", row(L, 404, 403, 403, 200, 200, 404)),
    # Operators are the people the Django admin lets in; to anyone else the page does not exist.
    "operators:overview": ("GET", row(L, 404, 404, 404, 404, 404, 200)),
    "admin:index": (
        "GET",
        row("admin-login", "admin-login", "admin-login", "admin-login", "admin-login", "admin-login", 200),
    ),
}
A = 401  # the API's answer without a token or session
API_OWNER = row(A, 404, 404, 200, 404, 404, 404)
API_MEMBERS = row(A, 404, 200, 200, 200, 200, 404)
API_MANAGERS = row(A, 404, 403, 403, 200, 200, 404)
TABLE |= {
    "api:schema GET": ("GET", row(200, 200, 200, 200, 200, 200, 200)),
    "api:projects GET": ("GET", row(A, 200, 200, 200, 200, 200, 200)),
    "api:project GET": ("GET", API_MEMBERS),
    "api:usage GET": ("GET", API_MEMBERS),
    "api:keys GET": ("GET", API_MEMBERS),
    "api:keys POST": ("POST", row(A, 404, 201, 201, 201, 201, 404)),
    "api:key GET": ("GET", API_OWNER),
    "api:key PATCH": ("PATCH", API_OWNER),
    "api:key DELETE": ("DELETE", row(A, 404, 404, 204, 404, 404, 404)),
    "api:key_extend POST": ("POST", API_OWNER),
    "api:key_reveal POST": ("POST", row(A, 404, 404, 403, 404, 404, 404)),  # 403: a fresh login first
    "api:buckets GET": ("GET", API_MEMBERS),
    "api:buckets POST": ("POST", row(A, 404, 403, 201, 201, 201, 404)),
    "api:bucket GET": ("GET", API_MEMBERS),
    "api:bucket DELETE": ("DELETE", row(A, 404, 403, 403, 204, 204, 404)),
    "api:bucket_access PUT": ("PUT", API_MANAGERS),
    "api:grants GET": ("GET", API_MEMBERS),
    "api:grants POST": ("POST", row(A, 404, 403, 403, 201, 201, 404)),
    "api:grant DELETE": ("DELETE", row(A, 404, 403, 403, 204, 204, 404)),
}


def _our_url_names() -> set[str]:
    names = set()
    for namespace in ("projects", "keys", "buckets", "operators", "api"):
        _, resolver = get_resolver().namespace_dict[namespace]
        names |= {f"{namespace}:{p.name}" for p in resolver.url_patterns if p.name}
    return names


def test_every_url_has_an_entry() -> None:
    named = {entry.split()[0] for entry in TABLE}
    assert _our_url_names() <= named, sorted(_our_url_names() - named)


@pytest.fixture
def world(project, cast, make_user):  # type: ignore[no-untyped-def]
    from allauth.account.models import EmailAddress

    owner = Membership.objects.get(project=project, role=Role.MEMBER)
    key = key_create(membership=owner, hours=2, description="owned").key
    target = Membership.objects.create(user=make_user("target"), project=project, role=Role.READ_ONLY)
    join = join_request_create(user=make_user("asker"), project=project, reason="r")
    EmailAddress.objects.create(user=cast["outsider"], email="out@example.org", verified=True, primary=True)
    invitation = invitation_create(
        actor=Membership.objects.get(project=project, role=Role.MANAGER), email="out@example.org"
    )
    manager = Membership.objects.get(project=project, role=Role.MANAGER)
    bucket = bucket_create(membership=manager, name="cast-bucket")
    group = group_create(project=project, name="cast group")
    grant = grant_create(actor=manager.user, bucket=bucket, request=GrantRequest(kind="member", member_id=target.pk))
    n, b = project.number, bucket.name
    args: dict[str, list[object]] = {
        "projects:detail": [n],
        "projects:usage_refresh": [n],
        "projects:approve": [n, join.pk],
        "projects:reject": [n, join.pk],
        "projects:invite": [n],
        "projects:member_role": [n, target.pk],
        "projects:member_remove": [n, target.pk],
        "projects:invitation_accept": [invitation.pk],
        "projects:invitation_decline": [invitation.pk],
        "keys:create": [n],
        "keys:list": [n],
        "keys:detail": [n, key.access_key_id],
        "keys:extend": [n, key.access_key_id],
        "keys:edit": [n, key.access_key_id],
        "keys:reveal": [n, key.access_key_id],
        "keys:delete": [n, key.access_key_id],
        "keys:audit": [n],
        "keys:audit_csv": [n],
        "buckets:create": [n],
        "buckets:detail": [n, b],
        "buckets:delete": [n, b],
        "buckets:access": [n, b],
        "buckets:left_out_dismiss": [n, b],
        "buckets:grant_create": [n, b],
        "buckets:grant_revoke": [n, b, grant.pk],
        "buckets:policy": [n, b],
        "buckets:link": [n, b],
        "buckets:groups": [n],
        "buckets:group": [n, group.pk],
        "buckets:group_delete": [n, group.pk],
        "projects:usage_csv": [n],
        "buckets:usage_csv": [n, b],
        "api:project": [n],
        "api:usage": [n],
        "api:keys": [n],
        "api:key": [n, key.access_key_id],
        "api:key_extend": [n, key.access_key_id],
        "api:key_reveal": [n, key.access_key_id],
        "api:buckets": [n],
        "api:bucket": [n, b],
        "api:bucket_access": [n, b],
        "api:grants": [n, b],
        "api:grant": [n, b, grant.pk],
    }
    data = {
        "keys:create": {"hours": "1", "description": "cast"},
        "keys:extend": {"hours": "5"},
        "keys:edit": {"description": "renamed"},
        "projects:invite": {"email": "z@example.org", "role": "member"},
        "projects:member_role": {"role": "member"},
        "buckets:access": {"members_access": "read"},
        "buckets:grant_create": {"kind": "group", "access": "read", "group": group.pk},
        "buckets:link": {"key": key.access_key_id, "object_key": "o.txt", "hours": "2"},
        "api:keys POST": {"hours": 1, "description": "cast"},
        "api:key PATCH": {"description": "renamed"},
        "api:key_extend POST": {"hours": 5},
        "api:key_reveal POST": {},
        "api:buckets POST": {"name": "cast-new"},
        "api:bucket_access PUT": {"members_access": "read"},
        "api:grants POST": {"kind": "group", "access": "read", "group": group.pk},
    }
    return args, data


@pytest.mark.parametrize("name", list(TABLE))
@pytest.mark.parametrize("who", CAST)
def test_every_url_by_the_cast(name: str, who: str, cast, world) -> None:  # type: ignore[no-untyped-def]
    args, data = world
    client = Client()
    if cast[who] is not None:
        client.force_login(cast[who])
    method, expected_by_cast = TABLE[name]
    url_name = name.split()[0]
    url = reverse(url_name, args=args.get(url_name, []))
    if url_name.startswith("api:"):
        body = data.get(name)
        call: Callable[..., Any] = getattr(client, method.lower())
        response = call(url, json.dumps(body), content_type="application/json") if body is not None else call(url)
    else:
        call = client.get if method == "GET" else client.post
        response = call(url, data.get(name, {}))
    expected = expected_by_cast[who]
    assert_no_template_text(response)
    if expected == L:
        assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    elif expected == "admin-login":
        assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    else:
        assert response.status_code == expected, response.content[:300]
