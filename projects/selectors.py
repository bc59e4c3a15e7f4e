from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from accounts.models import User
from keys.models import AccessKey
from projects.models import JoinRequest, Membership


def memberships_of(user: User) -> QuerySet[Membership]:
    """The user's active memberships with their own active key count, in one query."""
    return (
        Membership.objects.filter(user=user, status=Membership.Status.ACTIVE)
        .select_related("project")
        .annotate(
            active_keys=Count(
                "project__access_keys",
                filter=Q(project__access_keys__owner=user, project__access_keys__status=AccessKey.Status.ACTIVE),
            )
        )
        .order_by("project__number")
    )


def keys_of(membership: Membership) -> QuerySet[AccessKey]:
    return AccessKey.objects.filter(
        owner=membership.user, project=membership.project, status=AccessKey.Status.ACTIVE
    ).order_by("expires_at")


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
