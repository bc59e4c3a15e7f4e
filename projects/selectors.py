from __future__ import annotations

from django.db.models import QuerySet

from projects.models import JoinRequest, Membership


def members_of(membership: Membership) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(project=membership.project, status=Membership.Status.ACTIVE)
        .select_related("user")
        .order_by("role", "user__username")
    )


def pending_requests(membership: Membership) -> QuerySet[JoinRequest]:
    return JoinRequest.objects.filter(project=membership.project, status=JoinRequest.Status.PENDING).select_related(
        "user"
    )
