from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from buckets.inventory import project_refresh_usage
from buckets.models import Bucket
from buckets.selectors import access_summary, bucket_reach, buckets_of, with_scope_buckets
from keys.selectors import expiry_enforcement, keys_of, memberships_of, timeline_keys_of
from keys.timeline import key_timeline
from projects.access import membership_for
from projects.members import invitations_for
from projects.models import MANAGING, WRITING, Membership, Role
from projects.selectors import members_of, pending_requests
from web.errors import attempt
from web.forms.keys import KeyCreateForm
from web.forms.projects import InviteForm, RoleForm
from web.usage import usage_context


@require_GET
@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    assert isinstance(request.user, User)  # login_required
    return render(
        request,
        "projects/list.html",
        {"memberships": memberships_of(request.user), "invitations": invitations_for(request.user)},
    )


def _largest(buckets: Iterable[Bucket]) -> list[str]:
    """The buckets charted beside the project: the largest at the last refresh."""
    ranked = sorted(buckets, key=lambda b: (-b.size_bytes, b.name))
    return [b.name for b in ranked[: settings.LATCHKEY_USAGE_CHART_BUCKETS]]


def key_create_form(
    membership: Membership, data: QueryDict | None = None, *, buckets: list[Bucket] | None = None
) -> KeyCreateForm:
    """The key form as this member may fill it (``buckets``: the project's, from ``buckets_of``)."""
    found = list(buckets_of(membership.project_id)) if buckets is None else buckets
    return KeyCreateForm(
        data,
        initial={"hours": 8},
        max_hours=membership.project.key_max_hours,
        reach=bucket_reach(membership, found),
        writes=membership.role in WRITING,
    )


def render_project_page(
    request: HttpRequest, membership: Membership, *, form: KeyCreateForm | None = None, status: int = 200
) -> HttpResponse:
    """The project page; the key form comes back here, with its errors, when it does not validate."""
    found = list(buckets_of(membership.project_id))
    buckets = [(bucket, access_summary(bucket)) for bucket in found]
    return render(
        request,
        "projects/detail.html",
        {
            "membership": membership,
            "project": membership.project,
            "keys": with_scope_buckets(keys_of(membership)),
            "timeline": key_timeline(
                timeline_keys_of(membership),
                now=timezone.now(),
                reminder_hours=settings.LATCHKEY_REMINDER_HOURS,
                zone=timezone.get_current_timezone(),
            ),
            "form": form or key_create_form(membership, buckets=found),
            "max_hours": settings.LATCHKEY_KEY_MAX_HOURS,
            "members": members_of(membership),
            "manages": membership.role in MANAGING,
            # Managers answer for the project's keys: they are told when expiry is not enforced.
            "expiry": expiry_enforcement() if membership.role in MANAGING else None,
            "requests": pending_requests(membership) if membership.role in MANAGING else [],
            "role_choices": RoleForm.base_fields["role"].choices,  # type: ignore[attr-defined]
            "invite_form": InviteForm(),
            "buckets": buckets,
            "writes": membership.role != Role.READ_ONLY,
            **usage_context(request, membership.project, largest=_largest(bucket for bucket, _ in buckets)),
        },
        status=status,
    )


@require_GET
@login_required
def project_detail(request: HttpRequest, number: str) -> HttpResponse:
    return render_project_page(request, membership_for(request.user, number))


@require_POST
@login_required
def usage_refresh(request: HttpRequest, number: str) -> HttpResponse:
    membership = membership_for(request.user, number)
    stale = "The storage service is not answering; the usage shown is the last known figure."
    if not attempt(lambda: project_refresh_usage(project=membership.project), unavailable=stale).ok:
        messages.error(request, stale)
    else:
        messages.success(request, "Usage refreshed from the storage service.")
    return redirect("projects:detail", number=number)
