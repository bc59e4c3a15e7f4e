"""Managers and deputies changing other members: a role change reaches Ceph, a removal revokes
keys and rewrites bucket policies (lifecycle/memberships.py)."""

from __future__ import annotations

from lifecycle.memberships import membership_end, membership_set_role
from projects.members import MembershipError
from projects.models import MANAGING, Membership, Role


def _check_can_manage(actor: Membership, target: Membership, *, new_role: Role | None = None) -> None:
    if actor.project_id != target.project_id or actor.role not in MANAGING:
        raise MembershipError("Only the project's managers and deputies manage members.")
    if target.source != "latchkey":
        provider = target.source.removeprefix("idp:")
        raise MembershipError(f"This membership comes from the identity provider ({provider}); change it there.")
    touches_leaders = target.role in MANAGING or (new_role is not None and new_role in MANAGING)
    if touches_leaders and actor.role != Role.MANAGER:
        raise MembershipError("Only managers change managers and deputies.")
    if target.role == Role.MANAGER and new_role != Role.MANAGER:
        managers = Membership.objects.filter(
            project_id=target.project_id, role=Role.MANAGER, status=Membership.Status.ACTIVE
        ).count()
        if managers <= 1:
            raise MembershipError("A project needs at least one manager; make someone else manager first.")


def member_change_role(*, actor: Membership, target: Membership, role: Role) -> None:
    _check_can_manage(actor, target, new_role=role)
    membership_set_role(membership=target, role=role)


def member_remove(*, actor: Membership, target: Membership) -> None:
    """Ends the membership: keys revoked, subuser removed (see projects.services)."""
    _check_can_manage(actor, target)
    membership_end(membership=target)
