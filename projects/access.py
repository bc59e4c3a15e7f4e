"""The one place that decides who may see or change a project.

Outsiders (and memberships being ended) get 404, so a project's existence is not revealed;
members whose role does not allow the action get 403. Read-only members may still create keys
for themselves: their subuser has read access only, so such keys can only read.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.models import User
from projects.models import MANAGING, JoinRequest, Membership, Project, Role


def membership_for(user: object, number: str, *, roles: tuple[Role, ...] | None = None) -> Membership:
    if not isinstance(user, User) or not user.is_active:
        raise Http404
    membership = (
        Membership.objects.select_related("project")
        .filter(user=user, project__number=number, status=Membership.Status.ACTIVE)
        .first()
    )
    if membership is None:
        raise Http404("No such project")
    membership.user = user  # the row was found by this user; joining it again costs every request
    if membership.project.status != Project.Status.ACTIVE:
        raise PermissionDenied("This project is suspended.")
    if roles is not None and membership.role not in roles:
        raise PermissionDenied("Your role in this project does not allow this.")
    return membership


def managing_membership(user: object, number: str) -> Membership:
    """The manager's or deputy's membership acting on the project's members and requests."""
    membership = membership_for(user, number)
    if membership.role not in MANAGING:
        raise PermissionDenied("Only the project's managers and deputies manage members.")
    return membership


def project_member(actor: Membership, membership_id: int) -> Membership:
    """An active member of the actor's project; another project's member is 404."""
    target = (
        Membership.objects.select_related("user", "project")
        .filter(pk=membership_id, project=actor.project, status=Membership.Status.ACTIVE)
        .first()
    )
    if target is None:
        raise Http404("No such member")
    return target


def project_join_request(actor: Membership, request_id: int) -> JoinRequest:
    """A join request to the actor's project; another project's request is 404."""
    join = JoinRequest.objects.select_related("user", "project").filter(pk=request_id, project=actor.project).first()
    if join is None:
        raise Http404("No such request")
    return join
