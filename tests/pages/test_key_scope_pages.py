"""Choosing a key's scope on the project page, with real Ceph behind it: the form offers the
project's buckets, refuses what the member may not have with a message on the form, and the
key's pages and files say what the key may do."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from buckets.models import Bucket
from buckets.services import bucket_create, bucket_set_members_access
from keys.models import AccessKey
from projects.models import Role
from storage import client as storage
from tests.support.web import client_for

pytestmark = [pytest.mark.django_db, pytest.mark.ceph]


@pytest.fixture
def buckets(project, member_of) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    manager = member_of(project, Role.MANAGER, "manager")
    made = {name: bucket_create(membership=manager, name=name) for name in ("inputs", "outputs", "private")}
    bucket_set_members_access(bucket=made["private"], members_access=Bucket.MembersAccess.NONE)
    return made


def _post(client, project, **fields: Any):  # type: ignore[no-untyped-def]
    return client.post(reverse("keys:create", args=[project.number]), {"hours": "2", "description": "job", **fields})


@pytest.mark.parametrize(
    ("role", "scopes", "reads", "writes"),
    [
        (
            Role.MANAGER,
            ["member", "read-only", "buckets"],
            ["inputs", "outputs", "private"],
            ["inputs", "outputs", "private"],
        ),
        # "private" is closed to members; nothing is offered that the form would refuse.
        (Role.MEMBER, ["member", "read-only", "buckets"], ["inputs", "outputs"], ["inputs", "outputs"]),
        # A read-only member's keys are read-only in Ceph: no "everything", no box to write.
        (Role.READ_ONLY, ["read-only", "buckets"], ["inputs", "outputs"], []),
    ],
)
def test_the_form_offers_only_what_the_person_can_have(
    project, member_of, buckets, role, scopes, reads, writes
) -> None:  # type: ignore[no-untyped-def]
    page = client_for(member_of(project, role).user).get(reverse("projects:detail", args=[project.number]))
    html = page.content.decode()
    radios = re.findall(r'<input type="radio" name="scope" value="([^"]+)"[^>]*>', html)
    assert radios == scopes
    assert re.search(rf'<input type="radio" name="scope" value="{scopes[0]}"[^>]*checked', html)
    for name, offered in (("read_buckets", reads), ("write_buckets", writes)):
        boxes = re.findall(rf'<input type="checkbox" name="{name}" value="([^"]+)"[^>]*id="([^"]+)"', html)
        assert [value for value, _ in boxes] == offered
        assert all(f'for="{box_id}"' in html for _, box_id in boxes)  # each box has its label
    assert ("Buckets the key may read and write" in html) == bool(writes)


@pytest.mark.parametrize(
    ("role", "fields", "message"),
    [
        (Role.MEMBER, {"scope": "buckets"}, "Choose at least one bucket."),
        (Role.MEMBER, {"scope": "read-only", "read_buckets": "inputs"}, "only with the &#x27;buckets&#x27; scope"),
        (
            Role.MEMBER,
            {"scope": "buckets", "read_buckets": "private"},
            "private is not a bucket you may read in this project.",
        ),
        (
            Role.MEMBER,
            {"scope": "buckets", "read_buckets": "elsewhere"},
            "elsewhere is not a bucket you may read in this project.",
        ),
        (Role.MEMBER, {"scope": "root"}, "Choose one of the listed scopes."),
        (
            Role.READ_ONLY,
            {"scope": "buckets", "write_buckets": "inputs"},
            "inputs is not a bucket you may write in this project.",
        ),
    ],
)
def test_a_scope_beyond_the_member_is_refused_on_the_form(project, member_of, buckets, role, fields, message) -> None:  # type: ignore[no-untyped-def]
    response = _post(client_for(member_of(project, role).user), project, **fields)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not AccessKey.objects.filter(project=project).exists()
    assert project.tenant not in storage.scoped_users()


def test_a_bucket_key_made_on_the_page_works_and_says_its_scope(project, member_of, buckets) -> None:  # type: ignore[no-untyped-def]
    client = client_for(member_of(project).user)
    response = _post(client, project, scope="buckets", read_buckets=["inputs", "outputs"], write_buckets="outputs")
    assert response.status_code == 200
    key = AccessKey.objects.get(project=project)
    assert key.scope == "buckets" and key.rgw_user
    configs = {c.client: c.content for c, _ in response.context["configs"]}
    assert configs["rclone"].split("\n")[1] == "# Latchkey key scope: only the buckets inputs:read, outputs:readwrite."
    assert configs["shell"].startswith("# Latchkey key scope: only the buckets")
    assert "scope" not in configs["s3fs-json"]  # JSON has no comments; the file must still parse
    s3 = storage.s3_client(access_key=key.access_key_id, secret_key=response.context["secret"])
    s3.put_object(Bucket="outputs", Key="result", Body=b"1")
    n = project.number
    urls = [reverse("keys:detail", args=[n, key.access_key_id]), reverse("keys:list", args=[n])]
    for url in [*urls, reverse("projects:detail", args=[n])]:
        body = client.get(url).content.decode()
        assert "<code>inputs</code> (read-only), <code>outputs</code> (read and write)" in body, url
