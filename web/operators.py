"""The operators' overview: what needs attention across the site, each figure linking to where
to act. Operators are the people the Django admin lets in; anyone else logged in gets 404, as for
any page they may not see."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from keys.models import AccessKey
from lifecycle.overview import Overview, operator_overview
from portal.health import checks_run


def operator_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The Django admin's own test (admin.site.has_permission: an active staff account)."""

    @login_required
    @wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not admin.site.has_permission(request):
            raise Http404
        return view(request, *args, **kwargs)

    return checked


def _changelist(name: str, **lookups: object) -> str:
    url = reverse(f"admin:{name}_changelist")
    return f"{url}?{urlencode({k: str(v) for k, v in lookups.items()})}" if lookups else url


def admin_links(overview: Overview) -> dict[str, str]:
    """The admin's lists filtered to what each figure counts."""
    active, now = AccessKey.Status.ACTIVE, overview.now.isoformat()
    return {
        "projects": _changelist("projects_project"),
        "ending_soon": _changelist(
            "keys_accesskey",
            status__exact=active,
            expires_at__gte=now,
            expires_at__lt=overview.ending_until.isoformat(),
        ),
        "expired": _changelist(
            "keys_accesskey", status__exact=AccessKey.Status.EXPIRED, ended_at__gte=overview.lag_since.isoformat()
        ),
        "overdue": _changelist("keys_accesskey", status__exact=active, expires_at__lte=now),
        "abandoned": _changelist("keys_accesskey", status__exact=AccessKey.Status.PENDING),
        "dirty_buckets": _changelist("buckets_bucket", policy_dirty__exact=1),
    }


@require_GET
@never_cache
@operator_required
def overview(request: HttpRequest) -> HttpResponse:
    found = operator_overview()
    context = {"overview": found, "links": admin_links(found), "health": checks_run()}
    return render(request, "operators/overview.html", context)
