from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from buckets.access import bucket_grant, project_bucket
from buckets.grants import grant_create, grant_revoke
from buckets.links import link_create, link_keys
from buckets.models import Bucket
from buckets.selectors import access_summary, bucket_policy_in_ceph, grants_of
from buckets.services import bucket_create, bucket_delete, bucket_left_out_dismiss, bucket_set_members_access
from projects.access import membership_for
from projects.models import MANAGING, WRITING, Membership
from web.errors import attempt
from web.forms.buckets import BucketCreateForm, GrantForm, LinkForm, MembersAccessForm
from web.usage import usage_context


def _bucket_page(
    request: HttpRequest, membership: Membership, bucket: Bucket, *, status: int = 200, **forms: Any
) -> HttpResponse:
    manages = membership.role in MANAGING
    context = {
        "project": bucket.project,
        "membership": membership,
        "bucket": bucket,
        "summary": access_summary(bucket),
        "grants": grants_of(bucket),
        "manages": manages,
        "access_form": forms.get("access_form") or MembersAccessForm(initial={"members_access": bucket.members_access}),
        "grant_form": (forms.get("grant_form") or GrantForm(bucket=bucket)) if manages else None,
        "link_form": forms.get("link_form") or LinkForm(keys=link_keys(membership)),
        "link": forms.get("link"),
        "left_out": json.dumps([i["statement"] for i in bucket.policy_left_out], indent=2) if manages else "",
        **usage_context(request, bucket.project, bucket=bucket.name),
    }
    return render(request, "buckets/detail.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def bucket_create_view(request: HttpRequest, number: str) -> HttpResponse:
    membership = membership_for(request.user, number, roles=WRITING)
    form = BucketCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        made = attempt(lambda: bucket_create(membership=membership, name=form.cleaned_data["name"]), form=form)
        if made.ok and made.value is not None:
            messages.success(request, f"Bucket {made.value.name} created.")
            return redirect("buckets:detail", number=number, name=made.value.name)
    status = 400 if request.method == "POST" else 200
    return render(request, "buckets/new.html", {"project": membership.project, "form": form}, status=status)


@require_GET
@login_required
def bucket_detail_view(request: HttpRequest, number: str, name: str) -> HttpResponse:
    membership, bucket = project_bucket(request.user, number, name)
    return _bucket_page(request, membership, bucket)


@require_http_methods(["GET", "POST"])
@login_required
def bucket_delete_view(request: HttpRequest, number: str, name: str) -> HttpResponse:
    membership, bucket = project_bucket(request.user, number, name, roles=MANAGING)
    error = ""
    if request.method == "POST":
        error = attempt(lambda: bucket_delete(membership=membership, bucket=bucket)).error
        if not error:
            messages.success(request, f"Bucket {name} deleted.")
            return redirect("projects:detail", number=number)
    context = {"project": bucket.project, "bucket": bucket, "error": error}
    return render(request, "buckets/confirm_delete.html", context, status=400 if error else 200)


@require_POST
@login_required
def bucket_access_view(request: HttpRequest, number: str, name: str) -> HttpResponse:
    membership, bucket = project_bucket(request.user, number, name, roles=MANAGING)
    form = MembersAccessForm(request.POST)
    if form.is_valid():
        access = form.cleaned_data["members_access"]
        if attempt(lambda: bucket_set_members_access(bucket=bucket, members_access=access), form=form).ok:
            messages.success(request, "Access for the project's members saved and applied.")
            return redirect("buckets:detail", number=number, name=name)
    return _bucket_page(request, membership, bucket, access_form=form, status=400)


@require_POST
@login_required
def bucket_left_out_dismiss_view(request: HttpRequest, number: str, name: str) -> HttpResponse:
    _, bucket = project_bucket(request.user, number, name, roles=MANAGING)
    bucket_left_out_dismiss(bucket=bucket)
    return redirect("buckets:detail", number=number, name=name)


@require_POST
@login_required
def grant_create_view(request: HttpRequest, number: str, name: str) -> HttpResponse:
    membership, bucket = project_bucket(request.user, number, name, roles=MANAGING)
    form = GrantForm(request.POST, bucket=bucket)
    if form.is_valid():
        grant = form.grant_request()
        if attempt(lambda: grant_create(actor=membership.user, bucket=bucket, request=grant), form=form).ok:
            messages.success(request, "Grant made; the bucket's policy is updated.")
            return redirect("buckets:detail", number=number, name=name)
    return _bucket_page(request, membership, bucket, grant_form=form, status=400)


@require_http_methods(["GET", "POST"])
@login_required
def grant_revoke_view(request: HttpRequest, number: str, name: str, grant_id: int) -> HttpResponse:
    membership, grant = bucket_grant(request.user, number, name, grant_id)
    error = ""
    if request.method == "POST":
        error = attempt(lambda: grant_revoke(actor=membership.user, grant=grant)).error
        if not error:
            messages.success(request, "Grant revoked; the bucket's policy is updated.")
            return redirect("buckets:detail", number=number, name=name)
    context = {"project": grant.bucket.project, "bucket": grant.bucket, "grant": grant, "error": error}
    return render(request, "buckets/confirm_revoke.html", context, status=503 if error else 200)


@require_GET
@login_required
def bucket_policy_view(request: HttpRequest, number: str, name: str) -> HttpResponse:
    """The effective policy, read from Ceph now: people's statements and Latchkey's."""
    _, bucket = project_bucket(request.user, number, name)
    read = attempt(lambda: bucket_policy_in_ceph(bucket))
    if not read.ok:
        context = {"project": bucket.project, "bucket": bucket, "error": read.error}
        return render(request, "buckets/policy.html", context, status=503)
    text = json.dumps(read.value, indent=2) if read.value else ""
    return render(request, "buckets/policy.html", {"project": bucket.project, "bucket": bucket, "policy": text})


@require_POST
@login_required
@never_cache
def link_create_view(request: HttpRequest, number: str, name: str) -> HttpResponse:
    membership, bucket = project_bucket(request.user, number, name)
    form = LinkForm(request.POST, keys=link_keys(membership))
    if form.is_valid():
        data = form.cleaned_data
        made = attempt(
            lambda: link_create(
                membership=membership,
                bucket=bucket,
                access_key_id=data["key"],
                object_key=data["object_key"],
                hours=data["hours"],
            ),
            form=form,
        )
        if made.ok:
            return _bucket_page(request, membership, bucket, link_form=form, link=made.value)
    return _bucket_page(request, membership, bucket, link_form=form, status=400)
