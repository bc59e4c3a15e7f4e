"""Memberships from the entitlement claim, and what ending one does in Ceph."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from django.urls import reverse

from buckets.inventory import project_refresh_usage
from buckets.models import Bucket
from buckets.services import bucket_create, bucket_set_members_access
from keys.models import AccessKey
from keys.services import KeyActionError, key_extend
from lifecycle.keys import key_create
from lifecycle.memberships import STALE, membership_set_role, memberships_apply_stale, memberships_sync_from_claims
from projects.models import Membership, Project, Role
from projects.services import project_provision
from storage import client as storage
from tests.support.s3 import wait_refused
from tests.support.web import admin_project_form, client_for
from web.forms.projects import ProjectAdminForm

pytestmark = [pytest.mark.django_db]


def test_sync_adds_updates_and_ignores_unknown_projects(project, make_user, unique) -> None:  # type: ignore[no-untyped-def]
    number = unique()
    other = Project.objects.create(number=number, title="o", tenant=f"o{number}")
    user = make_user("alice")
    summary = memberships_sync_from_claims(
        user=user, provider_id="myaccessid", asserted={project.number: Role.MANAGER, "123456": Role.MEMBER}
    )
    assert summary == {"added": 1, "changed": 0, "ended": 0}
    assert Membership.objects.get(user=user).role == Role.MANAGER
    summary = memberships_sync_from_claims(
        user=user, provider_id="myaccessid", asserted={project.number: Role.MEMBER, other.number: Role.READ_ONLY}
    )
    assert summary == {"added": 1, "changed": 1, "ended": 0}
    assert dict(Membership.objects.filter(user=user).values_list("project__number", "role")) == {
        project.number: Role.MEMBER,
        other.number: Role.READ_ONLY,
    }


def test_sync_leaves_memberships_from_other_sources(project, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("alice")
    Membership.objects.create(user=user, project=project, role=Role.MEMBER, source="latchkey")
    memberships_sync_from_claims(user=user, provider_id="haka", asserted={})
    assert Membership.objects.filter(user=user).count() == 1


@pytest.mark.ceph
def test_entitlement_removed_at_login_revokes_keys_and_subuser(project, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("bob")
    memberships_sync_from_claims(user=user, provider_id="myaccessid", asserted={project.number: Role.MEMBER})
    membership = Membership.objects.get(user=user)
    issued = key_create(membership=membership, hours=4, description="job")
    summary = memberships_sync_from_claims(user=user, provider_id="myaccessid", asserted={})
    assert summary["ended"] == 1
    assert not Membership.objects.filter(user=user).exists()
    assert AccessKey.objects.get(pk=issued.key.pk).status == AccessKey.Status.REVOKED
    assert wait_refused(issued.key.access_key_id, issued.secret) == "InvalidAccessKeyId"
    ceph_user = storage._client().get_user(uid=storage.uid(project.tenant))
    assert ceph_user["subusers"] == [] and ceph_user["keys"] == []


@pytest.mark.ceph
def test_role_change_at_login_changes_subuser_access(project, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("carol")
    memberships_sync_from_claims(user=user, provider_id="myaccessid", asserted={project.number: Role.MEMBER})
    key_create(membership=Membership.objects.get(user=user), hours=1, description="provision")
    memberships_sync_from_claims(user=user, provider_id="myaccessid", asserted={project.number: Role.READ_ONLY})
    ceph_user = storage._client().get_user(uid=storage.uid(project.tenant))
    assert ceph_user["subusers"][0]["permissions"] == "read"
    assert Membership.objects.get(user=user).rgw_access == "read"


@pytest.mark.ceph
def test_project_provision_is_idempotent(project) -> None:  # type: ignore[no-untyped-def]
    project_provision(project=project)
    project.rgw_provisioned = False  # as if another process had not seen it yet
    project_provision(project=project)
    user = storage._client().get_user(uid=storage.uid(project.tenant))
    assert (user["tenant"], user["user_id"]) == (project.tenant, project.tenant)


def test_a_project_naming_its_providers_ignores_the_others(project, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("frank")
    memberships_sync_from_claims(user=user, provider_id="haka", asserted={project.number: Role.MEMBER})
    assert Membership.objects.filter(user=user, project=project, status=Membership.Status.ACTIVE).exists()
    Project.objects.filter(pk=project.pk).update(asserting_providers="myaccessid")
    summary = memberships_sync_from_claims(user=user, provider_id="haka", asserted={project.number: Role.MANAGER})
    assert summary == {"added": 0, "changed": 0, "ended": 1}  # what haka gave ends; nothing new is believed
    assert not Membership.objects.filter(user=user, project=project, status=Membership.Status.ACTIVE).exists()


@pytest.mark.ceph
def test_operator_restricting_providers_ends_the_others_memberships_at_once(project, make_user) -> None:  # type: ignore[no-untyped-def]
    haka = Membership.objects.create(user=make_user("frank"), project=project, source="idp:haka")
    mine = Membership.objects.create(user=make_user("alice"), project=project, source="idp:myaccessid")
    local = Membership.objects.create(user=make_user("gina"), project=project, source="latchkey")
    keys = {m.pk: key_create(membership=m, hours=1, description="k") for m in (haka, mine, local)}
    base = {"number": project.number, "title": project.title, "tenant": project.tenant}
    bad = ProjectAdminForm(data={**base, "asserting_providers": "myaccessid,nosuch"}, instance=project)
    assert not bad.is_valid() and "Not a configured provider: nosuch." in bad.errors["asserting_providers"]

    operator = make_user("operator", is_staff=True, is_superuser=True)
    response = client_for(operator).post(
        reverse("admin:projects_project_change", args=[project.pk]),
        admin_project_form(**base, asserting_providers="myaccessid"),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert wait_refused(keys[haka.pk].key.access_key_id, keys[haka.pk].secret) == "InvalidAccessKeyId"
    assert not Membership.objects.filter(pk=haka.pk).exists()
    for kept in (mine, local):  # the allowed provider's and Latchkey's own memberships stay
        assert Membership.objects.get(pk=kept.pk).status == Membership.Status.ACTIVE
        assert wait_refused(keys[kept.pk].key.access_key_id, keys[kept.pk].secret, timeout=0) is None


@pytest.mark.ceph
def test_a_downgrade_ceph_refused_is_applied_by_the_retry(project, make_user, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    membership = Membership.objects.create(user=make_user("carol"), project=project, role=Role.MEMBER)
    issued = key_create(membership=membership, hours=1, description="writes")
    s3 = storage.s3_client(access_key=issued.key.access_key_id, secret_key=issued.secret)
    bucket = f"stale-{project.number}"
    s3.create_bucket(Bucket=bucket)
    real_ensure = storage.subuser_ensure

    def down(**kwargs: str) -> None:
        raise storage.StorageUnavailable("down")

    monkeypatch.setattr(storage, "subuser_ensure", down)
    membership_set_role(membership=membership, role=Role.READ_ONLY)
    assert Membership.objects.get(pk=membership.pk).rgw_access == STALE
    # Ceph still gives the subuser readwrite: the member's keys are revoked instead (M2).
    assert wait_refused(issued.key.access_key_id, issued.secret) == "InvalidAccessKeyId"
    with pytest.raises(KeyActionError, match="still being applied"):
        key_extend(key=issued.key, hours=2, actor=membership.user)
    assert memberships_apply_stale() == {"applied": 0, "failed": 1, "reader_keys_ended": 0}

    monkeypatch.setattr(storage, "subuser_ensure", real_ensure)
    assert memberships_apply_stale() == {"applied": 1, "failed": 0, "reader_keys_ended": 0}
    assert Membership.objects.get(pk=membership.pk).rgw_access == "read"
    again = key_create(membership=Membership.objects.get(pk=membership.pk), hours=1, description="reads")
    s3 = storage.s3_client(access_key=again.key.access_key_id, secret_key=again.secret)
    with pytest.raises(ClientError, match="AccessDenied"):
        s3.put_object(Bucket=bucket, Key="refused", Body=b"x")
    assert memberships_apply_stale() == {"applied": 0, "failed": 0, "reader_keys_ended": 0}


@pytest.mark.ceph
def test_a_lower_role_reaches_ceph_even_when_a_policy_write_is_refused(project, make_user) -> None:  # type: ignore[no-untyped-def]
    """M2: a restricted bucket whose policy Ceph refuses to write (the bucket is gone from Ceph
    but not yet from Latchkey) no longer keeps a demoted manager at full access: the subuser is
    lowered first, and the member's keys are revoked since the policies could not follow."""
    manager = Membership.objects.create(user=make_user("boss"), project=project, role=Role.MANAGER)
    demoted = Membership.objects.create(user=make_user("erin"), project=project, role=Role.MANAGER)
    issued = key_create(membership=demoted, hours=1, description="full")
    bucket = bucket_create(membership=manager, name="secret")
    bucket_set_members_access(bucket=bucket, members_access=Bucket.MembersAccess.NONE)
    storage.bucket_remove(tenant=project.tenant, name="secret")  # Ceph no longer has it
    membership_set_role(membership=Membership.objects.get(pk=demoted.pk), role=Role.MEMBER)
    subusers = storage._client().get_user(uid=storage.uid(project.tenant))["subusers"]
    level = next(s["permissions"] for s in subusers if s["id"].endswith(":" + demoted.user.rgw_name))
    assert level == "read-write"  # not "full-control" any more
    assert wait_refused(issued.key.access_key_id, issued.secret) == "InvalidAccessKeyId"
    assert AccessKey.objects.get(pk=issued.key.pk).status == AccessKey.Status.REVOKED
    assert Membership.objects.get(pk=demoted.pk).rgw_access == STALE
    with pytest.raises(KeyActionError, match="still being applied"):
        key_extend(key=issued.key, hours=2, actor=demoted.user)
    # The next usage refresh finds the bucket gone; then the retry completes the role.
    assert memberships_apply_stale() == {"applied": 0, "failed": 1, "reader_keys_ended": 0}
    project_refresh_usage(project=project)
    assert memberships_apply_stale() == {"applied": 1, "failed": 0, "reader_keys_ended": 0}
    assert Membership.objects.get(pk=demoted.pk).rgw_access == "readwrite"
