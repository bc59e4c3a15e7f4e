"""The one place that decides who may see or change a project.

Outsiders (and memberships being ended) get 404, so a project's existence is not revealed;
members whose role does not allow the action get 403. Read-only members may still create keys
for themselves: their subuser has read access only, so such keys can only read.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.models import User
from projects.models import Membership, Project, Role


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
