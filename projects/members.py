"""Managing members inside Latchkey: join requests, role changes, removal.

Memberships asserted by an identity provider's entitlement are managed at that provider: the
next login would re-assert them, so Latchkey refuses to change or remove them here and says so.
Managers and deputies manage members; only managers change managers and deputies; a project
always keeps at least one manager.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.claims import merged_claims
from accounts.models import User
from portal.errors import Refused
from portal.mail import mail
from projects.entitlements import provider_trusted_for
from projects.models import MANAGING, Invitation, JoinRequest, Membership, Project, Role

log = logging.getLogger(__name__)


class MembershipError(Refused):
    """A membership change that is not allowed; the message is meant for the user."""


def _managers_and_deputies(project: Project) -> list[str]:
    return list(
        Membership.objects.filter(project=project, role__in=MANAGING, status=Membership.Status.ACTIVE)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )


def join_request_create(*, user: User, project: Project, reason: str) -> JoinRequest:
    if Membership.objects.filter(user=user, project=project).exists():
        raise MembershipError(f"You are already a member of project {project.number}.")
    try:
        with transaction.atomic():
            request = JoinRequest.objects.create(user=user, project=project, reason=reason)
    except IntegrityError:
        raise MembershipError(f"You already asked to join project {project.number}; it awaits a decision.") from None
    link = settings.LATCHKEY_BASE_URL.rstrip("/") + reverse("projects:detail", args=[project.number])
    mail(  # a failed send is logged; the decision stands and the page shows it
        f"{user.get_full_name() or user.username} asks to join project {project.number}",
        f"Reason given: {reason}\n\nApprove or reject the request on the project page:\n{link}\n",
        _managers_and_deputies(project),
    )
    return request


def join_request_decide(*, actor: Membership, request: JoinRequest, approve: bool) -> None:
    if actor.role not in MANAGING or actor.project_id != request.project_id:
        raise MembershipError("Only the project's managers and deputies decide on requests.")
    if request.user_id == actor.user_id:
        raise MembershipError("You cannot decide on your own request.")
    with transaction.atomic():
        updated = JoinRequest.objects.filter(pk=request.pk, status=JoinRequest.Status.PENDING).update(
            status=JoinRequest.Status.APPROVED if approve else JoinRequest.Status.REJECTED,
            decided_by=actor.user,
            decided_at=timezone.now(),
        )
        if not updated:
            raise MembershipError("This request has already been decided.")
        if approve:
            Membership.objects.get_or_create(
                user=request.user, project=request.project, defaults={"role": Role.MEMBER, "source": "latchkey"}
            )
    outcome = "approved" if approve else "rejected"
    mail(
        f"Your request to join project {request.project.number} was {outcome}",
        f"{actor.user.get_full_name() or actor.user.username} {outcome} your request to join project "
        f"{request.project.number} ({request.project.title}).\n",
        [request.user.email] if request.user.email else [],
    )


def _verified_emails(user: User) -> set[str]:
    return {e.lower() for e in EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)}


def invitation_create(*, actor: Membership, email: str, role: Role = Role.MEMBER) -> Invitation:
    if actor.role not in MANAGING:
        raise MembershipError("Only the project's managers and deputies invite people.")
    if role in MANAGING and actor.role != Role.MANAGER:
        raise MembershipError("Only managers invite managers and deputies.")
    email = email.strip().lower()
    if Membership.objects.filter(
        project=actor.project, user__emailaddress__email__iexact=email, user__emailaddress__verified=True
    ).exists():
        raise MembershipError(f"{email} is already a member of this project.")
    # An expired invitation no longer holds the address's one pending place.
    Invitation.objects.filter(
        project=actor.project, email=email, status=Invitation.Status.PENDING, created_at__lt=_fresh_since()
    ).update(status=Invitation.Status.EXPIRED)
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(project=actor.project, email=email, role=role, invited_by=actor.user)
    except IntegrityError:
        raise MembershipError(f"{email} has already been invited.") from None
    link = settings.LATCHKEY_BASE_URL.rstrip("/") + reverse("projects:list")
    mail(
        f"You are invited to project {actor.project.number} in Latchkey",
        f"{actor.user.get_full_name() or actor.user.username} invites you to project {actor.project.number} "
        f"({actor.project.title}) as {Role(role).label.lower()}.\n\nLog in with an identity that has this e-mail "
        f"address and accept the invitation on your project list within {settings.LATCHKEY_INVITATION_DAYS} days:\n"
        f"{link}\n",
        [email],
    )
    return invitation


def providers_trusted_for(project: Project) -> set[str]:
    """The providers whose word counts for ``project``: the same rule as for its memberships
    (its own list of providers, and each provider's namespaces and projects)."""
    return {pid for pid in settings.LATCHKEY_PROVIDER_TRUST if provider_trusted_for(project, pid)}


def _providers_asserting(user: User, email: str) -> set[str]:
    """The providers of the user's identities whose own claims give ``email`` as verified."""
    found = set()
    for provider, extra_data in SocialAccount.objects.filter(user=user).values_list("provider", "extra_data"):
        claims = merged_claims(extra_data if isinstance(extra_data, dict) else {})
        address, verified = claims.get("email"), claims.get("email_verified")
        if isinstance(address, str) and address.strip().lower() == email.lower() and verified in (True, "true"):
            found.add(provider)
    return found


def _fresh_since() -> datetime:
    """Invitations made before this have expired (LATCHKEY_INVITATION_DAYS)."""
    return timezone.now() - timedelta(days=settings.LATCHKEY_INVITATION_DAYS)


def invitation_expired(invitation: Invitation) -> bool:
    return invitation.created_at < _fresh_since()


def _provider_names() -> dict[str, str]:
    return {app["provider_id"]: app["name"] for app in settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"]}


def invitations_for(user: User) -> list[Invitation]:
    """The user's pending invitations that have not expired, each with ``accept_as`` (the name of
    the provider the project trusts whose identity of the user asserted the invited address, None
    if there is none) and ``trusted_names``."""
    emails = _verified_emails(user)
    if not emails:
        return []
    invitations = list(
        Invitation.objects.filter(status=Invitation.Status.PENDING, email__in=emails, created_at__gte=_fresh_since())
        .exclude(project__memberships__user=user)
        .select_related("project", "invited_by")
    )
    names = _provider_names()
    for invitation in invitations:
        trusted = providers_trusted_for(invitation.project)
        via = sorted(_providers_asserting(user, invitation.email) & trusted)
        invitation.accept_as = names.get(via[0], via[0]) if via else None  # type: ignore[attr-defined]
        invitation.trusted_names = sorted(names.get(p, p) for p in trusted)  # type: ignore[attr-defined]
        invitation.expires_at = invitation.created_at + timedelta(days=settings.LATCHKEY_INVITATION_DAYS)  # type: ignore[attr-defined]
    return invitations


def invitation_answer(*, user: User, invitation: Invitation, accept: bool) -> None:
    """An address is only as good as the provider that verified it: a person at another IdP with
    the same address must not take an invitation meant for someone the project's IdPs know. So an
    invitation is accepted only through one identity that both comes from a provider the project
    trusts and was itself given the address, verified, by that provider: an address one IdP
    asserted and an identity another IdP vouches for, connected to one account, are not enough."""
    if invitation.email.lower() not in _verified_emails(user):
        raise MembershipError("This invitation is for another e-mail address.")
    if invitation_expired(invitation):
        raise MembershipError("This invitation has expired; ask the project's managers for a new one.")
    if accept and not _providers_asserting(user, invitation.email) & providers_trusted_for(invitation.project):
        raise MembershipError(
            f"Project {invitation.project.number} accepts invitations only from identities of the providers it "
            "trusts; log in with one of those to accept it."
        )
    with transaction.atomic():
        updated = Invitation.objects.filter(pk=invitation.pk, status=Invitation.Status.PENDING).update(
            status=Invitation.Status.ACCEPTED if accept else Invitation.Status.DECLINED
        )
        if not updated:
            raise MembershipError("This invitation has already been answered.")
        if accept:
            Membership.objects.get_or_create(
                user=user, project=invitation.project, defaults={"role": invitation.role, "source": "latchkey"}
            )
