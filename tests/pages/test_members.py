"""Join requests and member management: rules, e-mails, Ceph effects, and the cast."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from keys.models import AccessKey
from lifecycle.keys import key_create
from lifecycle.members import member_change_role
from lifecycle.memberships import membership_provision
from projects.members import (
    MembershipError,
    invitation_answer,
    invitation_create,
    join_request_create,
    join_request_decide,
)
from projects.models import Invitation, JoinRequest, Membership, Project, Role
from storage import client as storage
from tests.support import CAST
from tests.support.s3 import wait_refused
from tests.support.web import client_for

pytestmark = [pytest.mark.django_db]


def _m(project, role: Role) -> Membership:  # type: ignore[no-untyped-def]
    return Membership.objects.get(project=project, role=role)


def test_join_request_mails_the_managers_and_approval_makes_a_member(project, cast) -> None:  # type: ignore[no-untyped-def]
    for who in ("manager", "deputy", "member"):
        cast[who].email = f"{who}@example.org"
        cast[who].save()
    outsider = cast["outsider"]
    outsider.email = "new@example.org"
    outsider.save()
    response = client_for(outsider).post(
        reverse("projects:join"), {"number": project.number, "reason": "I run the model"}
    )
    assert response.status_code == 302
    request = JoinRequest.objects.get()
    assert sorted(mail.outbox[0].to) == ["deputy@example.org", "manager@example.org"]
    assert "I run the model" in mail.outbox[0].body

    response = client_for(cast["deputy"]).post(reverse("projects:approve", args=[project.number, request.pk]))
    assert response.status_code == 302
    membership = Membership.objects.get(user=outsider, project=project)
    assert (membership.role, membership.source) == (Role.MEMBER, "latchkey")
    assert mail.outbox[-1].to == ["new@example.org"] and "approved" in mail.outbox[-1].subject
    again = client_for(cast["manager"]).post(reverse("projects:reject", args=[project.number, request.pk]), follow=True)
    assert "already been decided" in again.content.decode()
    assert JoinRequest.objects.get().status == JoinRequest.Status.APPROVED


def test_the_join_form_answers_alike_for_a_project_that_exists_and_one_that_does_not(project, cast) -> None:  # type: ignore[no-untyped-def]
    """An outsider learns nothing about which project numbers are in use."""
    answers = []
    for number in (project.number, "999999999999"):
        response = client_for(cast["outsider"]).post(
            reverse("projects:join"), {"number": number, "reason": "I run the model"}, follow=True
        )
        answers.append((response.status_code, response.redirect_chain, _messages_of(response)))
    assert answers[0] == answers[1]
    assert "If that project exists, its managers have your request" in answers[0][2][0]
    assert JoinRequest.objects.count() == 1 and JoinRequest.objects.get().project == project


def _messages_of(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(m) for m in response.context["messages"]]


def test_rejection_creates_nothing(project, cast) -> None:  # type: ignore[no-untyped-def]
    request = join_request_create(user=cast["outsider"], project=project, reason="please")
    client_for(cast["manager"]).post(reverse("projects:reject", args=[project.number, request.pk]))
    assert JoinRequest.objects.get().status == JoinRequest.Status.REJECTED
    assert not Membership.objects.filter(user=cast["outsider"]).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"number": "46200abc", "reason": "x"}, "digits only"),
        ({"number": "", "reason": "x"}, "Enter the project number"),
        ({"reason": "x"}, "Enter the project number"),
        ({"number": "PROJECT", "reason": ""}, "Tell the managers why"),
        ({"number": "PROJECT", "reason": "<script>x</script>"}, "cannot contain"),
        ({"number": "PROJECT", "reason": "x" * 501}, "Keep it to 500 characters"),
    ],
)
def test_bad_join_requests(project, cast, data, message) -> None:  # type: ignore[no-untyped-def]
    data = {k: (project.number if v == "PROJECT" else v) for k, v in data.items()}
    response = client_for(cast["outsider"]).post(reverse("projects:join"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not JoinRequest.objects.exists() and not mail.outbox


def test_duplicate_request_and_members_asking_again_are_refused(project, cast) -> None:  # type: ignore[no-untyped-def]
    join_request_create(user=cast["outsider"], project=project, reason="one")
    with pytest.raises(MembershipError, match="already asked"):
        join_request_create(user=cast["outsider"], project=project, reason="two")
    with pytest.raises(MembershipError, match="already a member"):
        join_request_create(user=cast["member"], project=project, reason="me")
    assert JoinRequest.objects.count() == 1


def test_nobody_decides_on_their_own_request(project, cast) -> None:  # type: ignore[no-untyped-def]
    request = join_request_create(user=cast["outsider"], project=project, reason="me")
    # Meanwhile the IdP made them a deputy; their own request is still not theirs to approve.
    own = Membership.objects.create(user=cast["outsider"], project=project, role=Role.DEPUTY, source="idp:haka")
    with pytest.raises(MembershipError, match="your own request"):
        join_request_decide(actor=own, request=request, approve=True)
    assert JoinRequest.objects.get().status == JoinRequest.Status.PENDING


def test_role_rules(project, cast, make_user) -> None:  # type: ignore[no-untyped-def]
    manager, deputy, member = _m(project, Role.MANAGER), _m(project, Role.DEPUTY), _m(project, Role.MEMBER)
    member_change_role(actor=deputy, target=member, role=Role.READ_ONLY)  # deputies manage members
    with pytest.raises(MembershipError, match="Only managers change managers and deputies"):
        member_change_role(actor=deputy, target=member, role=Role.DEPUTY)
    with pytest.raises(MembershipError, match="at least one manager"):
        member_change_role(actor=manager, target=manager, role=Role.MEMBER)
    idp = Membership.objects.create(user=make_user("idp"), project=project, source="idp:myaccessid")
    with pytest.raises(MembershipError, match="identity provider"):
        member_change_role(actor=manager, target=idp, role=Role.READ_ONLY)
    member_change_role(actor=manager, target=deputy, role=Role.MANAGER)
    member_change_role(actor=manager, target=manager, role=Role.MEMBER)  # no longer the last manager
    assert Membership.objects.filter(project=project, role=Role.MANAGER).count() == 1


@pytest.mark.ceph
def test_role_change_reaches_ceph_and_removal_revokes_keys(project, cast) -> None:  # type: ignore[no-untyped-def]
    member = _m(project, Role.MEMBER)
    issued = key_create(membership=member, hours=2, description="job")
    client = client_for(cast["manager"])
    client.post(reverse("projects:member_role", args=[project.number, member.pk]), {"role": "read-only"})
    ceph_user = storage._client().get_user(uid=storage.uid(project.tenant))
    assert {s["id"]: s["permissions"] for s in ceph_user["subusers"]}[
        f"{storage.uid(project.tenant)}:{member.user.rgw_name}"
    ] == "read"
    confirm = client.get(reverse("projects:member_remove", args=[project.number, member.pk]))
    assert confirm.status_code == 200 and "stop working" in confirm.content.decode()
    assert client.post(reverse("projects:member_remove", args=[project.number, member.pk])).status_code == 302
    assert not Membership.objects.filter(pk=member.pk).exists()
    assert AccessKey.objects.get(pk=issued.key.pk).status == AccessKey.Status.REVOKED
    assert wait_refused(issued.key.access_key_id, issued.secret) == "InvalidAccessKeyId"


def test_bad_role_value_changes_nothing(project, cast) -> None:  # type: ignore[no-untyped-def]
    member = _m(project, Role.MEMBER)
    response = client_for(cast["manager"]).post(
        reverse("projects:member_role", args=[project.number, member.pk]), {"role": "emperor"}, follow=True
    )
    assert "Unknown role" in response.content.decode()
    assert Membership.objects.get(pk=member.pk).role == Role.MEMBER


LOGIN = "login"
MANAGE = dict(anonymous=LOGIN, outsider=404, **{"read-only": 403}, member=403, operator=404)
MATRIX = {
    "join": dict(
        anonymous=LOGIN, outsider=200, **{"read-only": 200}, member=200, deputy=200, manager=200, operator=200
    ),
    "approve": dict(**MANAGE, deputy=302, manager=302),
    "reject": dict(**MANAGE, deputy=302, manager=302),
    "role": dict(**MANAGE, deputy=302, manager=302),
    "remove_get": dict(**MANAGE, deputy=200, manager=200),
    "refresh": dict(
        anonymous=LOGIN, outsider=404, **{"read-only": 302}, member=302, deputy=302, manager=302, operator=404
    ),
}


@pytest.mark.parametrize("view", list(MATRIX))
@pytest.mark.parametrize("who", CAST)
def test_authorization_matrix(view: str, who: str, project, cast, make_user, settings) -> None:  # type: ignore[no-untyped-def]
    settings.LATCHKEY_RGW_ADMIN_URL = "http://127.0.0.1:9"  # the refresh must not need Ceph to answer the cast
    target = Membership.objects.create(user=make_user("target"), project=project, role=Role.READ_ONLY)
    request = join_request_create(user=make_user("asker"), project=project, reason="r")
    client = client_for(cast[who])
    n = project.number
    response = {
        "join": lambda: client.get(reverse("projects:join")),
        "approve": lambda: client.post(reverse("projects:approve", args=[n, request.pk])),
        "reject": lambda: client.post(reverse("projects:reject", args=[n, request.pk])),
        "role": lambda: client.post(reverse("projects:member_role", args=[n, target.pk]), {"role": "member"}),
        "remove_get": lambda: client.get(reverse("projects:member_remove", args=[n, target.pk])),
        "refresh": lambda: client.post(reverse("projects:usage_refresh", args=[n])),
    }[view]()
    expected = MATRIX[view][who]
    if expected == LOGIN:
        assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    else:
        assert response.status_code == expected
    decided = JoinRequest.objects.get(pk=request.pk).status != JoinRequest.Status.PENDING
    assert decided == (view in ("approve", "reject") and who in ("deputy", "manager"))
    changed = Membership.objects.get(pk=target.pk).role != Role.READ_ONLY
    assert changed == (view == "role" and who in ("deputy", "manager"))


def _with_email(user, email: str, verified: bool = True, provider: str = "myaccessid"):  # type: ignore[no-untyped-def]
    user.email = email
    user.save()
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    # As a login makes it: the provider's own claims, the address among them.
    claims = {"sub": f"sub-{user.pk}", "email": email, "email_verified": verified}
    SocialAccount.objects.create(user=user, provider=provider, uid=claims["sub"], extra_data={"userinfo": claims})
    return user


def test_invitation_by_email_is_accepted_on_the_project_list(project, cast, make_user) -> None:  # type: ignore[no-untyped-def]
    invitee = _with_email(make_user("invitee"), "Invitee@Example.org")
    response = client_for(cast["manager"]).post(
        reverse("projects:invite", args=[project.number]), {"email": "invitee@example.org", "role": "deputy"}
    )
    assert response.status_code == 302
    assert mail.outbox[-1].to == ["invitee@example.org"] and project.number in mail.outbox[-1].subject
    page = client_for(invitee).get(reverse("projects:list")).content.decode()
    assert "Invitations" in page and project.number in page

    invitation = Invitation.objects.get()
    # Someone else, or the same address unverified, neither sees nor accepts it.
    for other in (cast["outsider"], _with_email(make_user("spoof"), "invitee@example.org", verified=False)):
        assert "Invitations" not in client_for(other).get(reverse("projects:list")).content.decode()
        assert client_for(other).post(reverse("projects:invitation_accept", args=[invitation.pk])).status_code == 404
    assert client_for(invitee).post(reverse("projects:invitation_accept", args=[invitation.pk])).status_code == 302
    membership = Membership.objects.get(user=invitee, project=project)
    assert (membership.role, membership.source) == (Role.DEPUTY, "latchkey")
    assert client_for(invitee).post(reverse("projects:invitation_decline", args=[invitation.pk])).status_code == 404


def test_declined_invitation_makes_no_member(project, cast, make_user) -> None:  # type: ignore[no-untyped-def]

    invitee = _with_email(make_user("invitee"), "x@example.org")
    invitation = invitation_create(actor=_m(project, Role.DEPUTY), email="x@example.org")
    client_for(invitee).post(reverse("projects:invitation_decline", args=[invitation.pk]))
    assert not Membership.objects.filter(user=invitee).exists()


@pytest.mark.parametrize(
    ("who", "data", "message"),
    [
        ("deputy", {"email": "a@example.org", "role": "manager"}, "Only managers invite managers and deputies"),
        ("manager", {"email": "not-an-address", "role": "member"}, "Enter a valid e-mail address"),
        ("manager", {"email": "", "role": "member"}, "Enter an e-mail address"),
        ("manager", {"email": "a@example.org", "role": "king"}, "Unknown role"),
        ("manager", {"email": "member@example.org", "role": "member"}, "already a member"),
    ],
)
def test_bad_invitations_change_nothing(project, cast, who, data, message) -> None:  # type: ignore[no-untyped-def]
    _with_email(cast["member"], "member@example.org")
    response = client_for(cast[who]).post(reverse("projects:invite", args=[project.number]), data, follow=True)
    assert message in response.content.decode()

    assert not Invitation.objects.exists() and not mail.outbox


def test_duplicate_invitation_is_refused(project, cast) -> None:  # type: ignore[no-untyped-def]

    invitation_create(actor=_m(project, Role.MANAGER), email="a@example.org")
    with pytest.raises(MembershipError, match="already been invited"):
        invitation_create(actor=_m(project, Role.MANAGER), email="A@example.org ")


@pytest.mark.parametrize("who", CAST)
def test_invite_authorization(who: str, project, cast) -> None:  # type: ignore[no-untyped-def]

    response = client_for(cast[who]).post(
        reverse("projects:invite", args=[project.number]), {"email": "z@example.org", "role": "member"}
    )
    expected = dict(MANAGE, deputy=302, manager=302)[who]
    if expected == LOGIN:
        assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    else:
        assert response.status_code == expected
    assert Invitation.objects.exists() == (who in ("deputy", "manager"))


@pytest.mark.ceph
def test_admin_membership_edits_go_through_the_services(project, cast, make_user) -> None:  # type: ignore[no-untyped-def]
    member, reader = _m(project, Role.MEMBER), _m(project, Role.READ_ONLY)
    issued = key_create(membership=member, hours=2, description="job")
    membership_provision(membership=reader)
    newcomer = make_user("newcomer")
    others = list(Membership.objects.filter(project=project).exclude(pk__in=[member.pk, reader.pk]))
    rows = [(m, m.role, False) for m in others] + [(member, member.role, True), (reader, Role.MEMBER, False)]
    data = {
        "number": project.number,
        "title": project.title,
        "tenant": project.tenant,
        "quota_gb": "",
        "quota_max_buckets": "",
        "quota_max_objects": "",
        "max_key_hours": "",
        "memberships-TOTAL_FORMS": str(len(rows) + 1),
        "memberships-INITIAL_FORMS": str(len(rows)),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    for i, (m, role, delete) in enumerate(rows):
        data |= {
            f"memberships-{i}-id": str(m.pk),
            f"memberships-{i}-project": str(project.pk),
            f"memberships-{i}-user": str(m.user_id),
            f"memberships-{i}-role": role,
        }
        if delete:
            data[f"memberships-{i}-DELETE"] = "on"
    new = len(rows)
    data |= {
        f"memberships-{new}-project": str(project.pk),
        f"memberships-{new}-user": str(newcomer.pk),
        f"memberships-{new}-role": "member",
    }
    response = client_for(cast["operator"]).post(reverse("admin:projects_project_change", args=[project.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]

    assert not Membership.objects.filter(pk=member.pk).exists()
    assert AccessKey.objects.get(pk=issued.key.pk).status == AccessKey.Status.REVOKED
    assert wait_refused(issued.key.access_key_id, issued.secret) == "InvalidAccessKeyId"
    ceph_user = storage._client().get_user(uid=storage.uid(project.tenant))
    permissions = {s["id"].split(":")[-1]: s["permissions"] for s in ceph_user["subusers"]}
    assert member.user.rgw_name not in permissions
    assert permissions[reader.user.rgw_name] == "read-write"  # read-only → member
    assert Membership.objects.get(user=newcomer, project=project).source == "latchkey"


def test_a_name_with_line_breaks_neither_forges_a_header_nor_fails_the_request(project, cast) -> None:  # type: ignore[no-untyped-def]
    cast["manager"].email = "manager@example.org"
    cast["manager"].save()
    outsider = cast["outsider"]
    outsider.first_name, outsider.last_name = "Eve\r\nBcc: victim@example.org", "X\u2028Y"  # as an IdP sent it
    outsider.save()
    response = client_for(outsider).post(reverse("projects:join"), {"number": project.number, "reason": "hello"})
    assert response.status_code == 302
    assert JoinRequest.objects.filter(user=outsider).exists()
    message = mail.outbox[-1].message()
    assert message["Subject"].startswith("Eve Bcc: victim@example.org X Y asks to join")
    assert message["Bcc"] is None and mail.outbox[-1].bcc == []


def test_an_invitation_is_taken_only_through_a_provider_the_project_trusts(project, cast, make_user) -> None:  # type: ignore[no-untyped-def]

    Project.objects.filter(pk=project.pk).update(asserting_providers="myaccessid")
    invitation = invitation_create(actor=_m(project, Role.MANAGER), email="alice@example.org")
    # Another person at another IdP with the same, verified address.
    lookalike = _with_email(make_user("alice-haka"), "alice@example.org", provider="haka")
    page = client_for(lookalike).get(reverse("projects:list")).content.decode()
    assert "log in with MyAccessID (test) to accept it" in page and "Accept<" not in page
    refused = client_for(lookalike).post(reverse("projects:invitation_accept", args=[invitation.pk]), follow=True)
    assert "accepts invitations only from identities of the providers it trusts" in refused.content.decode()
    assert not Membership.objects.filter(user=lookalike).exists()
    assert Invitation.objects.get(pk=invitation.pk).status == Invitation.Status.PENDING

    alice = _with_email(make_user("alice"), "alice@example.org", provider="myaccessid")
    page = client_for(alice).get(reverse("projects:list")).content.decode()
    assert "You accept as your MyAccessID (test) identity" in page
    assert client_for(alice).post(reverse("projects:invitation_accept", args=[invitation.pk])).status_code == 302
    assert Membership.objects.filter(user=alice, project=project).exists()


def test_an_address_from_one_provider_and_an_identity_from_another_take_no_invitation(project, cast, make_user) -> None:  # type: ignore[no-untyped-def]
    """H1: the address came verified from a provider the project does not trust, and the trusted
    identity connected beside it asserts another address: neither alone may accept."""
    Project.objects.filter(pk=project.pk).update(asserting_providers="myaccessid")
    invitation = invitation_create(actor=_m(project, Role.MANAGER), email="alice@example.org", role=Role.MANAGER)
    lookalike = _with_email(make_user("alice-haka"), "alice@example.org", provider="haka")
    outsider_claims = {"sub": "dave", "email": "dave@example.org", "email_verified": True}
    SocialAccount.objects.create(
        user=lookalike, provider="myaccessid", uid="dave", extra_data={"userinfo": outsider_claims}
    )
    page = client_for(lookalike).get(reverse("projects:list")).content.decode()
    assert "log in with MyAccessID (test) to accept it" in page and "Accept<" not in page
    refused = client_for(lookalike).post(reverse("projects:invitation_accept", args=[invitation.pk]), follow=True)
    assert "accepts invitations only from identities of the providers it trusts" in refused.content.decode()
    assert not Membership.objects.filter(user=lookalike).exists()
    # An identity of the trusted provider whose own claims carry the address, unverified: no.
    unverified = {**outsider_claims, "sub": "alice2", "email": "alice@example.org", "email_verified": False}
    SocialAccount.objects.create(
        user=lookalike, provider="myaccessid", uid="alice2", extra_data={"id_token": unverified}
    )
    assert "Accept<" not in client_for(lookalike).get(reverse("projects:list")).content.decode()
    assert Invitation.objects.get(pk=invitation.pk).status == Invitation.Status.PENDING


def test_invitations_expire_and_say_who_sent_them(project, cast, make_user, settings) -> None:  # type: ignore[no-untyped-def]
    settings.LATCHKEY_INVITATION_DAYS = 14
    manager = _m(project, Role.MANAGER)
    manager.user.first_name, manager.user.last_name = "Bea", "Boss"
    manager.user.save()
    invitee = _with_email(make_user("invitee"), "invitee@example.org")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        invitation = invitation_create(actor=manager, email="invitee@example.org")
    assert "within 14 days" in mail.outbox[-1].body
    with time_machine.travel(start + timedelta(days=13, hours=23), tick=False):
        page = client_for(invitee).get(reverse("projects:list")).content.decode()
        assert "from Bea Boss" in page and "open until" in page and "Accept<" in page
    with time_machine.travel(start + timedelta(days=14, seconds=1), tick=False):
        assert "Invitations" not in client_for(invitee).get(reverse("projects:list")).content.decode()
        late = client_for(invitee).post(reverse("projects:invitation_accept", args=[invitation.pk]))
        assert late.status_code == 404
        with pytest.raises(MembershipError, match="expired"):
            invitation_answer(user=invitee, invitation=invitation, accept=True)
        assert not Membership.objects.filter(user=invitee).exists()
        # The expired invitation no longer holds the address: a new one can be sent, and taken.
        again = invitation_create(actor=manager, email="invitee@example.org")
        assert Invitation.objects.get(pk=invitation.pk).status == Invitation.Status.EXPIRED
        assert client_for(invitee).post(reverse("projects:invitation_accept", args=[again.pk])).status_code == 302
    assert Membership.objects.filter(user=invitee, project=project).exists()
