from __future__ import annotations

from django.db.models import Count, ExpressionWrapper, F, FloatField, QuerySet, Value
from django.db.models.functions import Coalesce

from projects.models import USAGE_WARNING_PERCENT, JoinRequest, Membership, Project


def active_members(project: Project) -> QuerySet[Membership]:
    """The project's active memberships with their users, by role and name."""
    return (
        Membership.objects.filter(project=project, status=Membership.Status.ACTIVE)
        .select_related("user")
        .order_by("role", "user__username")
    )


def members_of(membership: Membership) -> QuerySet[Membership]:
    return active_members(membership.project)


def open_project(number: str) -> Project | None:
    """The active project with this number, for a join request; None if there is none."""
    return Project.objects.filter(number=number, status=Project.Status.ACTIVE).first()


def pending_requests(membership: Membership) -> QuerySet[JoinRequest]:
    return JoinRequest.objects.filter(project=membership.project, status=JoinRequest.Status.PENDING).select_related(
        "user"
    )


def projects_near_quota() -> QuerySet[Project]:
    """Active projects whose last measured usage is USAGE_WARNING_PERCENT or more of their byte
    quota (``Project.usage_warning``, decided in the database), fullest first."""
    return (
        Project.objects.filter(status=Project.Status.ACTIVE, quota_bytes__gt=0, usage_bytes__isnull=False)
        .alias(share=ExpressionWrapper(100.0 * F("usage_bytes") / F("quota_bytes"), output_field=FloatField()))
        .filter(share__gte=USAGE_WARNING_PERCENT)
        .order_by("-share", "number")
    )


# radosgw's own limit when the project sets none (storage.client.rgw_max_buckets).
RGW_DEFAULT_MAX_BUCKETS = 1000


def projects_near_bucket_limit() -> QuerySet[Project]:
    """Active projects with USAGE_WARNING_PERCENT or more of the buckets Ceph lets them have
    (their limit, or radosgw's default), fullest first: the next CreateBucket may be refused."""
    limit = Coalesce(F("quota_max_buckets"), Value(RGW_DEFAULT_MAX_BUCKETS))
    return (
        Project.objects.filter(status=Project.Status.ACTIVE)
        .annotate(bucket_count=Count("buckets"), bucket_limit=limit)
        .alias(share=ExpressionWrapper(100.0 * F("bucket_count") / F("bucket_limit"), output_field=FloatField()))
        .filter(bucket_limit__gt=0, share__gte=USAGE_WARNING_PERCENT)
        .order_by("-share", "number")
    )
