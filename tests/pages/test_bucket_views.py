"""Bucket pages through Django's test client, with real Ceph behind them: bad input gets a clear
message and changes nothing, in the database or in Ceph."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from django.test import Client
from django.urls import reverse

from accounts.models import User
from buckets.grants import GrantRequest, grant_create
from buckets.models import Bucket, Grant, Group
from buckets.services import bucket_create
from lifecycle.keys import key_create
from projects.models import Membership, Project, Role
from projects.services import project_provision
from storage import client as storage
from tests.support.ceph import access_statements
from tests.support.web import client_for

pytestmark = [pytest.mark.django_db, pytest.mark.ceph]


def _page(response: Any) -> str:
    return html.unescape(response.content.decode())


def _ceph_buckets(project: Project) -> list[str]:
    project_provision(project=project)
    return sorted(b.name for b in storage.project_buckets(tenant=project.tenant))


def _manager(project: Project) -> Membership:
    return Membership.objects.get(project=project, role=Role.MANAGER)


# --- Creating a bucket -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("ab", "3 to 63 characters long"),
        ("UPPER", "lowercase letters, digits, dots and hyphens only"),
        ("a..b", "cannot have two dots in a row"),
        ("a.-b", "a dot next to a hyphen"),
        ("192.168.1.1", "cannot look like an IP address"),
        ("-abc", "starts and ends with a letter or digit"),
        ("abc-", "starts and ends with a letter or digit"),
        ("a" * 64, "at most 63 characters (it has 64)"),
        ("xn--abc", "cannot start with 'xn--'"),
        ("data-s3alias", "or end with '-s3alias'"),
        ("under_score", "lowercase letters, digits, dots and hyphens only"),
        ("", "Enter a name for the bucket."),
    ],
)
def test_bad_bucket_name_is_refused_with_a_message(
    project: Project, cast: dict[str, User | None], name: str, message: str
) -> None:
    response = client_for(cast["manager"]).post(reverse("buckets:create", args=[project.number]), {"name": name})
    assert response.status_code == 400
    assert message in _page(response)
    assert not Bucket.objects.filter(project=project).exists()
    assert _ceph_buckets(project) == []


def test_duplicate_bucket_name_is_refused(project: Project, cast: dict[str, User | None]) -> None:
    bucket_create(membership=_manager(project), name="dup-data")
    response = client_for(cast["member"]).post(reverse("buckets:create", args=[project.number]), {"name": "dup-data"})
    assert response.status_code == 400
    assert "This project already has a bucket named dup-data." in _page(response)
    assert Bucket.objects.filter(project=project).count() == 1
    assert _ceph_buckets(project) == ["dup-data"]


def test_good_name_creates_the_bucket_in_both_stores(project: Project, cast: dict[str, User | None]) -> None:
    response = client_for(cast["member"]).post(reverse("buckets:create", args=[project.number]), {"name": "ok.data-1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("buckets:detail", args=[project.number, "ok.data-1"])
    assert Bucket.objects.filter(project=project, name="ok.data-1").exists()
    assert _ceph_buckets(project) == ["ok.data-1"]


# --- Grants ----------------------------------------------------------------------------------


@dataclass
class Setting:
    project: Project
    bucket: Bucket
    other: Project  # already granted read on the bucket, so the policy is not empty
    stranger: Membership  # a member of ``other``
    other_group: Group
    policy: dict[str, Any] | None


@pytest.fixture
def setting(
    project: Project, cast: dict[str, User | None], unique: Callable[[], str], member_of: Callable[..., Membership]
) -> Setting:
    manager = _manager(project)
    bucket = bucket_create(membership=manager, name="granted")
    number = unique()
    other = Project.objects.create(number=number, title="Other", tenant=f"t{number}")
    stranger = member_of(other, username="stranger")
    grant_create(actor=manager.user, bucket=bucket, request=GrantRequest(kind="project", project_number=other.number))
    current = storage.bucket_policy_get(tenant=project.tenant, name=bucket.name)
    assert current is not None and len(access_statements(current)) == 1
    group = Group.objects.create(project=other, name="theirs")
    return Setting(project, bucket, other, stranger, group, current)


GRANT_CASES: dict[str, Callable[[Setting], tuple[dict[str, Any], str]]] = {
    "unknown project": lambda s: (
        {"kind": "project", "project_number": "000000001"},
        "No active project has this number.",
    ),
    "own project": lambda s: (
        {"kind": "project", "project_number": s.project.number},
        "This is the bucket's own project",
    ),
    "unknown user": lambda s: (
        {"kind": "project_user", "project_number": s.other.number, "user": "nobody@example.org"},
        f"No member of project {s.other.number} has this user name or verified e-mail address.",
    ),
    "bad address": lambda s: (
        {
            "kind": "project_user",
            "project_number": s.other.number,
            "user": s.stranger.user.username,
            "cidrs": "10.0.0.300/8",
        },
        "“10.0.0.300/8” is not an IP address or CIDR range",
    ),
    "not an address": lambda s: (
        {
            "kind": "project_user",
            "project_number": s.other.number,
            "user": s.stranger.user.username,
            "cidrs": "192.0.2.0/24, abc",
        },
        "“abc” is not an IP address or CIDR range",
    ),
    "public unconfirmed": lambda s: ({"kind": "public"}, "Confirm that anyone on the internet may read this bucket."),
    "past expiry": lambda s: (
        {
            "kind": "project_user",
            "project_number": s.other.number,
            "user": s.stranger.user.username,
            "expires_at": "2020-01-01 10:00",
        },
        "The end of the grant must be in the future.",
    ),
    "member of another project": lambda s: ({"kind": "member", "member": str(s.stranger.pk)}, "Select a valid choice."),
    "group of another project": lambda s: ({"kind": "group", "group": str(s.other_group.pk)}, "Select a valid choice."),
    "no member chosen": lambda s: ({"kind": "member"}, "Choose a member of this project."),
    "invalid kind": lambda s: ({"kind": "everyone"}, "Choose one of the listed options."),
    "invalid access": lambda s: (
        {"kind": "project_user", "project_number": s.other.number, "user": s.stranger.user.username, "access": "admin"},
        "Choose read-only or read and write.",
    ),
}


def _unchanged(s: Setting) -> bool:
    return (
        Grant.objects.filter(bucket=s.bucket).count() == 1
        and storage.bucket_policy_get(tenant=s.project.tenant, name=s.bucket.name) == s.policy
    )


@pytest.mark.parametrize("case", list(GRANT_CASES))
def test_bad_grant_is_refused_with_a_message(setting: Setting, cast: dict[str, User | None], case: str) -> None:
    data, message = GRANT_CASES[case](setting)
    url = reverse("buckets:grant_create", args=[setting.project.number, setting.bucket.name])
    response = client_for(cast["manager"]).post(url, {"access": "read", **data})
    assert response.status_code == 400
    assert message in _page(response)
    assert _unchanged(setting)


def test_good_grant_reaches_the_policy(setting: Setting, cast: dict[str, User | None]) -> None:
    """The bad cases above differ from this one in one field only."""
    url = reverse("buckets:grant_create", args=[setting.project.number, setting.bucket.name])
    data = {
        "kind": "project_user",
        "project_number": setting.other.number,
        "user": setting.stranger.user.username,
        "access": "read",
        "cidrs": "192.0.2.0/24",
        "expires_at": "2099-01-01 10:00",
    }
    assert client_for(cast["deputy"]).post(url, data).status_code == 302
    grant = Grant.objects.get(bucket=setting.bucket, kind="project_user")
    current = storage.bucket_policy_get(tenant=setting.project.tenant, name=setting.bucket.name)
    assert current is not None
    assert [s["Sid"] for s in access_statements(current)][-1] == f"latchkey-grant-{grant.pk}"


def test_grant_on_another_projects_bucket_is_404(setting: Setting, cast: dict[str, User | None]) -> None:
    theirs = bucket_create(membership=setting.stranger, name="theirs")
    before = storage.bucket_policy_get(tenant=setting.other.tenant, name=theirs.name)
    client = client_for(cast["manager"])
    data = {"kind": "public", "access": "read", "confirm_public": "on"}
    for number in (setting.other.number, setting.project.number):  # their project, or theirs named in ours
        response = client.post(reverse("buckets:grant_create", args=[number, theirs.name]), data)
        assert response.status_code == 404
    assert not Grant.objects.filter(bucket=theirs).exists()
    assert storage.bucket_policy_get(tenant=setting.other.tenant, name=theirs.name) == before
    assert _unchanged(setting)


@pytest.mark.parametrize("who", ["read-only", "member"])
def test_grant_by_a_member_who_does_not_manage_is_403(setting: Setting, cast: dict[str, User | None], who: str) -> None:
    url = reverse("buckets:grant_create", args=[setting.project.number, setting.bucket.name])
    response = client_for(cast[who]).post(url, {"kind": "public", "access": "read", "confirm_public": "on"})
    assert response.status_code == 403
    assert _unchanged(setting)


# --- Deleting a bucket -----------------------------------------------------------------------


def _s3_for(membership: Membership) -> Any:
    issued = key_create(membership=membership, hours=1, description="t")
    return storage.s3_client(access_key=issued.key.access_key_id, secret_key=issued.secret)


def test_non_empty_bucket_is_not_deleted(project: Project, cast: dict[str, User | None]) -> None:
    manager = _manager(project)
    bucket_create(membership=manager, name="full")
    _s3_for(manager).put_object(Bucket="full", Key="a.txt", Body=b"a")
    response = client_for(cast["manager"]).post(reverse("buckets:delete", args=[project.number, "full"]))
    assert response.status_code == 400
    assert "The bucket is not empty. Delete its objects first, then the bucket." in _page(response)
    assert Bucket.objects.filter(project=project, name="full").exists()
    assert _ceph_buckets(project) == ["full"]


# --- Temporary links -------------------------------------------------------------------------


@pytest.fixture
def linkable(project: Project, cast: dict[str, User | None]) -> tuple[Membership, str, Client]:
    """A member with a one-hour key, a bucket with one object, and the member's client."""
    member = Membership.objects.get(project=project, role=Role.MEMBER)
    bucket_create(membership=_manager(project), name="linked")
    issued = key_create(membership=member, hours=1, description="t")
    s3 = storage.s3_client(access_key=issued.key.access_key_id, secret_key=issued.secret)
    s3.put_object(Bucket="linked", Key="dir/report 1.csv", Body=b"a,b\n1,2\n")
    return member, issued.key.access_key_id, client_for(member.user)


@pytest.mark.parametrize(
    ("hours", "message"), [("0", "at least 1 hour"), ("169", "at most 168 hours (7 days)"), ("x", "whole number")]
)
def test_bad_link_duration_is_refused(
    project: Project, linkable: tuple[Membership, str, Client], hours: str, message: str
) -> None:
    _, key_id, client = linkable
    url = reverse("buckets:link", args=[project.number, "linked"])
    response = client.post(url, {"key": key_id, "object_key": "dir/report 1.csv", "hours": hours})
    assert response.status_code == 400
    assert message in _page(response)
    assert response.context["link"] is None


def test_link_with_a_key_not_owned_is_refused(
    project: Project, cast: dict[str, User | None], linkable: tuple[Membership, str, Client]
) -> None:
    _, key_id, _ = linkable
    deputy = Membership.objects.get(project=project, role=Role.DEPUTY)
    key_create(membership=deputy, hours=1, description="mine")
    url = reverse("buckets:link", args=[project.number, "linked"])
    data = {"key": key_id, "object_key": "dir/report 1.csv", "hours": "1"}
    response = client_for(cast["deputy"]).post(url, data)
    assert response.status_code == 400
    assert "Choose one of your active keys." in _page(response)
    assert response.context["link"] is None
    assert key_id not in str(response.context["link_form"].fields["key"].choices)
    # Without any key of one's own the form is replaced by the advice to create one.
    response = client_for(cast["manager"]).post(url, data)
    assert response.status_code == 400
    assert response.context["link"] is None and "create a key</a> first" in _page(response)


def test_link_is_capped_by_its_key_and_downloads_the_object(
    project: Project, linkable: tuple[Membership, str, Client]
) -> None:
    _, key_id, client = linkable
    url = reverse("buckets:link", args=[project.number, "linked"])
    response = client.post(url, {"key": key_id, "object_key": "dir/report 1.csv", "hours": "2"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = _page(response)
    assert "The key that signed this link expires sooner than you asked" in page
    link = response.context["link"]
    assert link.capped and link.url in page
    download = requests.get(link.url, timeout=10)
    assert download.status_code == 200
    assert download.content == b"a,b\n1,2\n"


def test_link_within_the_key_lifetime_has_no_warning(
    project: Project, linkable: tuple[Membership, str, Client]
) -> None:
    member, _, client = linkable
    longer = key_create(membership=member, hours=3, description="longer").key.access_key_id
    url = reverse("buckets:link", args=[project.number, "linked"])
    response = client.post(url, {"key": longer, "object_key": "dir/report 1.csv", "hours": "2"})
    assert response.status_code == 200
    assert not response.context["link"].capped
    assert "expires sooner than you asked" not in _page(response)


def test_project_page_queries_do_not_grow_with_buckets(project: Project, cast: dict[str, Any]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(cast["member"])
    url = reverse("projects:detail", args=[project.number])
    Bucket.objects.create(project=project, name="one-bucket")
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for n in range(5):  # buckets without grants used to cost a query each
        Bucket.objects.create(project=project, name=f"more-buckets-{n}")
    with CaptureQueriesContext(connection) as six:
        page = client.get(url)
    assert page.status_code == 200 and "more-buckets-4" in page.content.decode()
    assert len(six.captured_queries) == len(one.captured_queries)
