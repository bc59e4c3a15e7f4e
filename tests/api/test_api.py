"""The REST API with real tokens from Latchkey's own OpenID provider (the device grant, approved
by a logged-in user) and real Ceph behind it: the same rules as the pages, JSON errors naming the
field and the reason, and authorization by the cast."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.models import User
from buckets.services import bucket_create
from keys.models import AccessKey
from lifecycle.keys import key_create
from projects.models import Membership, Project, Role
from storage import client as storage
from tests.support.api import Api, device_token
from tests.support.s3 import s3_error_code, wait_refused

pytestmark = [pytest.mark.django_db, pytest.mark.ceph, pytest.mark.usefixtures("many_device_logins")]


@pytest.fixture
def api_for(cast: dict[str, User | None]) -> Callable[[str], Api]:
    return lambda who: Api(device_token(cast[who]) if cast[who] else None)  # type: ignore[arg-type]


def test_schema_is_served_and_names_the_endpoints() -> None:
    response = Client().get(reverse("api:schema"), HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/projects/{number}/keys/" in schema["paths"]
    assert "/api/v1/projects/{number}/buckets/{name}/grants/" in schema["paths"]


def test_key_lifecycle_through_the_api(project: Project, api_for: Callable[[str], Api]) -> None:
    api = api_for("member")
    projects = api("GET", "projects/")
    assert projects.status_code == 200 and [p["number"] for p in projects.json()] == [project.number]
    made = api("POST", f"projects/{project.number}/keys/", {"description": "api job", "hours": 2})
    assert made.status_code == 201 and made["Cache-Control"] == "no-store"
    body = made.json()
    key_id, secret = body["key"]["access_key_id"], body["secret_key"]
    assert s3_error_code(key_id, secret) is None
    assert {c["client"] for c in body["configs"]} >= {"rclone", "s3cmd", "aws-credentials", "boto3", "shell"}
    assert AccessKey.objects.get(access_key_id=key_id).description == "api job"
    assert api("GET", f"projects/{project.number}/keys/").json()[0]["access_key_id"] == key_id
    extended = api("POST", f"projects/{project.number}/keys/{key_id}/extend/", {"hours": 5})
    assert extended.status_code == 200 and extended.json()["last_extended_at"]
    assert (
        api("PATCH", f"projects/{project.number}/keys/{key_id}/", {"description": "renamed"}).json()["description"]
        == "renamed"
    )
    assert api("DELETE", f"projects/{project.number}/keys/{key_id}/").status_code == 204
    assert wait_refused(key_id, secret) == "InvalidAccessKeyId"


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"description": "x", "hours": 0}, "hours", "greater than or equal to 1"),
        ({"description": "x", "hours": 169}, "hours", "168"),
        ({"description": "x", "hours": "abc"}, "hours", "valid integer"),
        ({"description": "x", "hours": True}, "hours", "valid integer"),
        ({"description": "<b>x</b>", "hours": 1}, "description", "'<' or '>'"),
        ({"description": "x" * 201, "hours": 1}, "description", "200"),
        ({"description": {"a": 1}, "hours": 1}, "description", "valid string"),
        ({"hours": 1}, "description", "required"),
        ({"description": "x", "hours": 1, "endpoint": "nowhere"}, "endpoint", "Choose one of the endpoints"),
        (["not", "an", "object"], "non_field_errors", "JSON object"),
        ({"description": "x", "hours": 1, "scope": "read-only"}, "scope", '{"kind": ...'),
        ({"description": "x", "hours": 1, "scope": {"kind": "read-only", "x": 1}}, "scope", '{"kind": ...'),
        ({"description": "x", "hours": 1, "scope": {"kind": 3}}, "scope", '{"kind": ...'),
        ({"description": "x", "hours": 1, "scope": {"kind": "buckets", "buckets": "raw"}}, "scope", '{"kind": ...'),
        ({"description": "x", "hours": 1, "scope": {"kind": "admin"}}, "scope", "Unknown scope 'admin'"),
        ({"description": "x", "hours": 1, "scope": {"kind": "buckets"}}, "scope", "at least one bucket"),
        (
            {"description": "x", "hours": 1, "scope": {"kind": "buckets", "buckets": [{"name": "b", "access": "w"}]}},
            "scope",
            "must be 'read' or 'readwrite'",
        ),
        (
            {"description": "x", "hours": 1, "scope": {"kind": "buckets", "buckets": [{"name": "nowhere"}]}},
            "scope",
            "has no bucket 'nowhere'",
        ),
        (
            {
                "description": "x",
                "hours": 1,
                "scope": {"kind": "buckets", "buckets": [{"name": f"b{i}"} for i in range(11)]},
            },
            "scope",
            "at most 10 buckets",
        ),
    ],
)
def test_bad_key_input_names_the_field_and_changes_nothing(
    project: Project, api_for: Callable[[str], Api], body: Any, field: str, reason: str
) -> None:
    response = api_for("member")("POST", f"projects/{project.number}/keys/", body)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert reason in " ".join(errors[field]), errors
    assert not AccessKey.objects.filter(project=project).exists()
    assert project.tenant not in storage.scoped_users()


def test_scoped_keys_through_the_api(project: Project, api_for: Callable[[str], Api]) -> None:
    bucket_create(membership=Membership.objects.get(project=project, role=Role.MANAGER), name="api-scope")
    keys = f"projects/{project.number}/keys/"
    reader = api_for("read-only")
    write = {"kind": "buckets", "buckets": [{"name": "api-scope", "access": "readwrite"}]}
    refused = reader("POST", keys, {"description": "x", "hours": 1, "scope": write})
    assert refused.status_code == 400 and "may only read bucket 'api-scope'" in refused.json()["errors"]["scope"][0]
    made = reader("POST", keys, {"description": "job", "hours": 1, "scope": {"kind": "read-only"}})
    assert made.status_code == 201 and made.json()["key"]["scope"] == {"kind": "read-only"}
    assert "key scope: read-only" in next(c["content"] for c in made.json()["configs"] if c["client"] == "rclone")
    member = api_for("member")
    made = member("POST", keys, {"description": "job", "hours": 1, "scope": write}).json()
    assert made["key"]["scope"] == write
    s3 = storage.s3_client(access_key=made["key"]["access_key_id"], secret_key=made["secret_key"])
    s3.put_object(Bucket="api-scope", Key="out", Body=b"1")
    assert member("GET", keys).json()[0]["scope"] == write
    assert reader("GET", keys).json()[0]["scope"] == {"kind": "read-only"}


def test_authorization_by_the_cast(
    project: Project, cast: dict[str, User | None], api_for: Callable[[str], Api]
) -> None:
    owner = Membership.objects.get(project=project, role=Role.MEMBER)
    key = key_create(membership=owner, hours=1, description="owned").key
    bucket_create(membership=Membership.objects.get(project=project, role=Role.MANAGER), name="cast-api")
    n = project.number
    # who: (project, someone else's key, create bucket, list grants, make grant, a read-write key
    # scoped to the bucket: 400 for the read-only member, whose role never writes)
    expected = {
        "anonymous": (401, 401, 401, 401, 401, 401),
        "outsider": (404, 404, 404, 404, 404, 404),
        "read-only": (200, 404, 403, 200, 403, 400),
        "member": (200, 200, 201, 200, 403, 201),
        "deputy": (200, 404, 201, 200, 201, 201),
        "manager": (200, 404, 201, 200, 400, 201),  # 400: the deputy's grant for the same group exists
        "operator": (404, 404, 404, 404, 404, 404),
    }
    scoped = {
        "description": "cast",
        "hours": 1,
        "scope": {"kind": "buckets", "buckets": [{"name": "cast-api", "access": "readwrite"}]},
    }
    seen = {}
    PUBLIC = {"kind": "public", "confirm_public": True}
    for who in expected:
        api = api_for(who)
        seen[who] = (
            api("GET", f"projects/{n}/").status_code,
            api("GET", f"projects/{n}/keys/{key.access_key_id}/").status_code,
            api("POST", f"projects/{n}/buckets/", {"name": f"b-{who.replace('-', '')}"}).status_code,
            api("GET", f"projects/{n}/buckets/cast-api/grants/").status_code,
            api("POST", f"projects/{n}/buckets/cast-api/grants/", PUBLIC).status_code,
            api("POST", f"projects/{n}/keys/", scoped).status_code,
        )
    assert seen == expected


def test_bad_grant_input_names_the_field(
    project: Project, api_for: Callable[[str], Api], unique: Callable[[], str]
) -> None:
    bucket_create(membership=Membership.objects.get(project=project, role=Role.MANAGER), name="grants-api")
    api = api_for("manager")
    path = f"projects/{project.number}/buckets/grants-api/grants/"
    cases = [
        ({"kind": "public"}, "confirm_public"),
        ({"kind": "project", "project_number": unique()}, "project_number"),
        ({"kind": "project", "project_number": project.number}, "project_number"),
        ({"kind": "project_user", "project_number": project.number, "user": "nobody"}, "project_number"),
        ({"kind": "member", "member": 999999}, "member"),
        ({"kind": "public", "confirm_public": True, "cidrs": ["10.0.0.300/8"]}, "cidrs"),
        ({"kind": "public", "confirm_public": True, "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"kind": "everyone"}, "kind"),
        ({"kind": "public", "cidrs": "10.0.0.0/8"}, "cidrs"),
        ({"kind": "public", "confirm_public": True, "cidrs": ["10.0.0.0/8", "192.0.2.0/24", "x" * 65]}, "cidrs"),
    ]
    for body, field in cases:
        response = api("POST", path, body)
        assert response.status_code == 400 and field in response.json()["errors"], (body, response.json())
        # Every field's reasons are a list of strings, as the schema declares (never nested).
        errors = response.json()["errors"]
        assert all(isinstance(r, list) and all(isinstance(m, str) for m in r) for r in errors.values()), errors
    too_long = api("POST", path, cases[-1][0]).json()["errors"]["cidrs"]
    assert too_long == ["item 3: Ensure this field has no more than 64 characters."]
    assert api("GET", path).json() == []


def test_reveal_needs_a_fresh_login(project: Project, cast: dict[str, User | None]) -> None:
    """The web's rule: the IdP login behind the browser session that approved this token's
    device login was within LATCHKEY_REAUTH_SECONDS; a refreshed token was approved by nobody."""
    member = cast["member"]
    assert member is not None
    issued = key_create(membership=Membership.objects.get(user=member, project=project), hours=1, description="r")
    path = f"projects/{project.number}/keys/{issued.key.access_key_id}/reveal/"
    # The browser session's last login is recent in Django's eyes, but its IdP login was an hour ago.
    refused = Api(device_token(member))("POST", path, {})
    assert refused.status_code == 403 and "fresh login" in refused.json()["detail"]

    answer: dict[str, Any] = {}
    fresh = Api(device_token(member, fresh_login=True, answer=answer))
    shown = fresh("POST", path, {})
    assert shown.status_code == 200 and shown.json()["secret_key"] == issued.secret

    refreshed = Client().post(
        "/identity/o/api/token",
        urlencode(
            {"grant_type": "refresh_token", "refresh_token": answer["refresh_token"], "client_id": "latchkey-cli"}
        ),
        "application/x-www-form-urlencoded",
    )
    assert refreshed.status_code == 200, refreshed.content
    again = Api(refreshed.json()["access_token"])("POST", path, {})
    assert again.status_code == 403  # minutes after a fresh login, but not issued by one

    with time_machine.travel(time.time() + settings.LATCHKEY_REAUTH_SECONDS + 1):  # the window has passed
        assert fresh("POST", path, {}).status_code == 403


def test_an_unknown_token_is_refused_with_401() -> None:
    response = Api("not-a-token")("GET", "projects/")
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")


def test_a_malformed_body_is_bad_input_and_an_outsider_learns_nothing_from_it(
    project: Project, cast: dict[str, User | None]
) -> None:
    path = f"/api/v1/projects/{project.number}/keys/"
    outsider, member = (Api(device_token(cast[who])) for who in ("outsider", "member"))  # type: ignore[arg-type]
    for api in (outsider, member):
        api.client.defaults.update(api.headers)
    hidden = outsider.client.post(path, "{not json", content_type="application/json")
    assert hidden.status_code == 404  # the project is checked before the body is read
    bad = member.client.post(path, "{not json", content_type="application/json")
    assert bad.status_code == 400 and "JSON parse error" in bad.json()["errors"]["non_field_errors"][0]
    assert not AccessKey.objects.filter(project=project, description="").exists()


def test_the_schema_declares_every_answer_with_its_shape() -> None:
    document = Client().get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    create = document["paths"]["/api/v1/projects/{number}/keys/"]["post"]["responses"]
    assert {"201", "400", "401", "403", "404", "429", "503"} <= set(create)
    assert create["400"]["content"]["application/json"]["schema"]["$ref"].endswith("/BadInputOut")
    listing = document["paths"]["/api/v1/projects/{number}/keys/"]["get"]["responses"]
    assert "400" not in listing and listing["404"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ErrorOut"
    )


def test_a_path_below_the_api_that_matches_no_operation_is_a_json_404() -> None:
    for path in ("/api/v1/projects/a%2Fb/keys/", "/api/v1/nothing", "/api/v1/projects/1/keys/x/y/z/"):
        response = Client().get(path)
        assert response.status_code == 404 and response.json() == {"detail": "Not found."}, path
