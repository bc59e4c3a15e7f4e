"""Quota applied in and enforced by real Ceph; usage read exactly; pages never wait on Ceph."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError
from django.core.management import CommandError, call_command
from django.urls import reverse

from buckets.inventory import project_refresh_usage
from lifecycle.keys import key_create
from projects.models import Membership, Project, Role
from projects.quota import QuotaError, project_set_quota
from storage import client as storage
from tests.support.web import client_for
from web.forms.projects import ProjectAdminForm

pytestmark = [pytest.mark.django_db, pytest.mark.ceph]
MB = 10**6
T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _s3_for(membership: Membership):  # type: ignore[no-untyped-def]
    issued = key_create(membership=membership, hours=1, description="quota test")
    return storage.s3_client(access_key=issued.key.access_key_id, secret_key=issued.secret)


def test_quota_set_before_provisioning_is_applied_and_enforced_by_ceph(project, member_of) -> None:  # type: ignore[no-untyped-def]
    project_set_quota(project=project, quota_bytes=1 * MB, max_buckets=2)
    s3 = _s3_for(member_of(project))  # provisions the project user, with the quota
    s3.create_bucket(Bucket=f"q1-{project.number}")
    s3.put_object(Bucket=f"q1-{project.number}", Key="a", Body=b"x" * 300_000)
    with pytest.raises(Exception, match="QuotaExceeded"):
        s3.put_object(Bucket=f"q1-{project.number}", Key="b", Body=b"x" * 800_000)
    s3.create_bucket(Bucket=f"q2-{project.number}")
    with pytest.raises(Exception, match="TooManyBuckets"):
        s3.create_bucket(Bucket=f"q3-{project.number}")


def test_a_limit_of_no_buckets_means_none_in_ceph(project, member_of) -> None:  # type: ignore[no-untyped-def]
    """L4: radosgw reads max-buckets 0 as unlimited; Latchkey's 0 is "none" there too."""
    project_set_quota(project=project, quota_bytes=None, max_buckets=0)
    s3 = _s3_for(member_of(project, Role.MANAGER))
    with pytest.raises(ClientError) as refused:
        s3.create_bucket(Bucket=f"q0-{project.number}")
    assert refused.value.response["Error"]["Code"] in ("TooManyBuckets", "AccessDenied")
    assert storage._client().get_user(uid=storage.uid(project.tenant))["max_buckets"] == -1
    project_set_quota(project=project, quota_bytes=None, max_buckets=None)  # back to RGW's default
    s3.create_bucket(Bucket=f"q0-{project.number}")


def test_quota_change_and_removal_take_effect_in_ceph(project, member_of) -> None:  # type: ignore[no-untyped-def]
    s3 = _s3_for(member_of(project))
    bucket = f"qc-{project.number}"
    s3.create_bucket(Bucket=bucket)
    project_set_quota(project=project, quota_bytes=1 * MB)
    with pytest.raises(Exception, match="QuotaExceeded"):
        s3.put_object(Bucket=bucket, Key="big", Body=b"x" * 1_500_000)
    project_set_quota(project=project, quota_bytes=None)
    s3.put_object(Bucket=bucket, Key="big", Body=b"x" * 1_500_000)
    user = storage._client().get_user(uid=storage.uid(project.tenant))
    assert user["user_quota"]["enabled"] is False


def test_usage_is_exact_after_a_refresh(project, member_of) -> None:  # type: ignore[no-untyped-def]
    s3 = _s3_for(member_of(project))
    bucket = f"u-{project.number}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="a", Body=b"a" * 123_456)
    s3.put_object(Bucket=bucket, Key="b", Body=b"b" * 7_890)
    project_refresh_usage(project=project, now=T0)
    row = Project.objects.get(pk=project.pk)
    assert (row.usage_bytes, row.usage_objects, row.usage_at) == (123_456 + 7_890, 2, T0)
    s3.delete_object(Bucket=bucket, Key="a")
    project_refresh_usage(project=project, now=T0)
    assert Project.objects.get(pk=project.pk).usage_bytes == 7_890


def test_warning_at_ninety_percent_and_a_quota_below_use_is_flagged(project, member_of) -> None:  # type: ignore[no-untyped-def]
    membership = member_of(project)
    s3 = _s3_for(membership)
    bucket = f"w-{project.number}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="a", Body=b"x" * 850_000)
    assert project_set_quota(project=project, quota_bytes=1 * MB) is False  # usage not measured yet
    project_refresh_usage(project=project)
    page = client_for(membership.user).get(reverse("projects:detail", args=[project.number])).content.decode()
    assert "90 %" not in page  # 85 %
    s3.put_object(Bucket=bucket, Key="b", Body=b"x" * 60_000)
    project_refresh_usage(project=project)
    page = client_for(membership.user).get(reverse("projects:detail", args=[project.number])).content.decode()
    assert "used 90 % or more of its quota" in page
    listing = client_for(membership.user).get(reverse("projects:list")).content.decode()
    assert "Nearly full" in listing and "0.91 GB" not in listing and "(91 %)" in listing

    project.refresh_from_db()
    assert project_set_quota(project=project, quota_bytes=500_000) is True  # allowed, flagged
    with pytest.raises(Exception, match="QuotaExceeded"):
        s3.put_object(Bucket=bucket, Key="c", Body=b"x")


def test_negative_quota_is_refused_and_nothing_changes(project, member_of) -> None:  # type: ignore[no-untyped-def]
    _s3_for(member_of(project))
    for kwargs in (
        {"quota_bytes": -1},
        {"quota_bytes": None, "max_buckets": -3},
        {"quota_bytes": 5, "max_objects": -1},
    ):
        with pytest.raises(QuotaError, match="cannot be negative"):
            project_set_quota(project=project, **kwargs)
    assert Project.objects.get(pk=project.pk).quota_bytes is None
    assert storage._client().get_user(uid=storage.uid(project.tenant))["user_quota"]["enabled"] is False


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"quota_gb": "-1"}, "quota_gb", "cannot be negative"),
        ({"quota_gb": "lots"}, "quota_gb", "Enter the quota as a number of GB"),
        ({"quota_gb": "1", "quota_max_buckets": "-2"}, "quota_max_buckets", "Cannot be negative"),
        ({"quota_gb": "1", "quota_max_objects": "x"}, "quota_max_objects", "whole number"),
    ],
)
def test_admin_form_rejects_bad_quota(project, data: dict[str, str], field: str, message: str) -> None:  # type: ignore[no-untyped-def]
    form = ProjectAdminForm(
        data={"number": project.number, "title": project.title, "tenant": project.tenant, **data}, instance=project
    )
    assert not form.is_valid()
    assert message in " ".join(form.errors[field])


def test_operator_sets_quota_in_the_admin_and_ceph_enforces_it(project, member_of, make_user) -> None:  # type: ignore[no-untyped-def]
    s3 = _s3_for(member_of(project))
    operator = make_user("operator", is_staff=True, is_superuser=True)
    url = reverse("admin:projects_project_change", args=[project.pk])
    response = client_for(operator).post(
        url,
        {
            "number": project.number,
            "title": project.title,
            "tenant": project.tenant,
            "quota_gb": "0.001",
            "quota_max_buckets": "",
            "quota_max_objects": "",
            "max_key_hours": "",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "1",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Project.objects.get(pk=project.pk).quota_bytes == 1 * MB
    s3.create_bucket(Bucket=f"adm-{project.number}")
    with pytest.raises(Exception, match="QuotaExceeded"):
        s3.put_object(Bucket=f"adm-{project.number}", Key="big", Body=b"x" * 1_200_000)


def test_quota_command_and_its_bad_input(project, member_of, capsys) -> None:  # type: ignore[no-untyped-def]
    _s3_for(member_of(project))
    call_command("project_quota", project.number, "--gb", "2.5", "--max-buckets", "7")
    assert Project.objects.get(pk=project.pk).quota_bytes == 2_500_000_000
    user = storage._client().get_user(uid=storage.uid(project.tenant))
    rounded_up_to_kib = -(-2_500_000_000 // 1024) * 1024
    assert (user["user_quota"]["max_size"], user["max_buckets"]) == (rounded_up_to_kib, 7)
    for args, message in (
        (["--gb", "-1"], "cannot be negative"),
        (["--gb", "abc"], "not a number"),
        (["--gb", "1", "--max-buckets", "-1"], "cannot be negative"),
    ):
        with pytest.raises(CommandError, match=message):
            call_command("project_quota", project.number, *args)
    with pytest.raises(CommandError, match="no project"):
        call_command("project_quota", "123", "--gb", "1")
    assert Project.objects.get(pk=project.pk).quota_bytes == 2_500_000_000


def test_pages_never_wait_on_ceph(project, member_of, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    membership = member_of(project, Role.MANAGER)
    project_set_quota(project=project, quota_bytes=10 * MB)
    Project.objects.filter(pk=project.pk).update(usage_bytes=5 * MB, usage_at=T0)

    def no_ceph(*args: object, **kwargs: object) -> None:
        raise AssertionError("a page called Ceph")

    monkeypatch.setattr(storage, "_client", no_ceph)
    client = client_for(membership.user)
    for url in (reverse("projects:list"), reverse("projects:detail", args=[project.number])):
        response = client.get(url)
        assert response.status_code == 200
        assert "5 MB of 10 MB" in response.content.decode()


def test_refresh_on_demand_and_when_ceph_is_down(project, member_of, settings, make_user) -> None:  # type: ignore[no-untyped-def]
    membership = member_of(project, Role.READ_ONLY)
    s3 = _s3_for(member_of(project))
    s3.create_bucket(Bucket=f"r-{project.number}")
    s3.put_object(Bucket=f"r-{project.number}", Key="a", Body=b"x" * 4321)
    url = reverse("projects:usage_refresh", args=[project.number])
    assert client_for(make_user("outsider")).post(url).status_code == 404
    response = client_for(membership.user).post(url, follow=True)
    assert "Usage refreshed" in response.content.decode()
    assert Project.objects.get(pk=project.pk).usage_bytes == 4321
    settings.LATCHKEY_RGW_ADMIN_URL = "http://127.0.0.1:9"
    response = client_for(membership.user).post(url, follow=True)
    assert "last known figure" in response.content.decode()
    assert Project.objects.get(pk=project.pk).usage_bytes == 4321


def test_refresh_records_buckets_and_the_page_lists_them(project, member_of) -> None:  # type: ignore[no-untyped-def]
    from buckets.models import Bucket

    membership = member_of(project)
    s3 = _s3_for(membership)
    s3.create_bucket(Bucket=f"data-{project.number}")
    s3.put_object(Bucket=f"data-{project.number}", Key="a", Body=b"x" * 2048)
    s3.create_bucket(Bucket=f"gone-{project.number}")
    project_refresh_usage(project=project)
    assert {(b.name, b.size_bytes, b.object_count) for b in Bucket.objects.filter(project=project)} == {
        (f"data-{project.number}", 2048, 1),
        (f"gone-{project.number}", 0, 0),
    }
    s3.delete_bucket(Bucket=f"gone-{project.number}")
    project_refresh_usage(project=project)
    assert list(Bucket.objects.filter(project=project).values_list("name", flat=True)) == [f"data-{project.number}"]
    page = client_for(membership.user).get(reverse("projects:detail", args=[project.number])).content.decode()
    assert f"data-{project.number}" in page and f"gone-{project.number}" not in page


def test_tenant_is_read_only_once_the_project_exists_in_ceph(project, member_of) -> None:  # type: ignore[no-untyped-def]
    base = {"number": project.number, "title": project.title, "tenant": "elsewhere"}
    fresh = Project.objects.get(pk=project.pk)  # a ModelForm writes into its instance
    assert ProjectAdminForm(data=base, instance=fresh).is_valid() and fresh.tenant == "elsewhere"  # still free
    key_create(membership=member_of(project), hours=1, description="provisions the project")
    project.refresh_from_db()
    form = ProjectAdminForm(data=base, instance=project)
    assert form.is_valid(), form.errors
    assert form.save().tenant == project.tenant != "elsewhere"
