from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from buckets.access import project_group
from buckets.groups import group_create, group_delete, group_set_members
from buckets.selectors import buckets_granted_to, groups_of
from projects.access import membership_for
from projects.models import MANAGING
from web.errors import attempt
from web.forms.buckets import GroupForm, GroupMembersForm


@require_http_methods(["GET", "POST"])
@login_required
def groups_view(request: HttpRequest, number: str) -> HttpResponse:
    membership = membership_for(request.user, number, roles=MANAGING if request.method == "POST" else None)
    form = GroupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        made = attempt(lambda: group_create(project=membership.project, name=form.cleaned_data["name"]), form=form)
        if made.ok and made.value is not None:
            messages.success(request, f"Group {made.value.name} created. Now choose its members.")
            return redirect("buckets:group", number=number, group_id=made.value.pk)
    context = {
        "project": membership.project,
        "groups": groups_of(membership.project),
        "form": form,
        "manages": membership.role in MANAGING,
    }
    return render(request, "buckets/groups.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@login_required
def group_view(request: HttpRequest, number: str, group_id: int) -> HttpResponse:
    membership, group = project_group(
        request.user, number, group_id, roles=MANAGING if request.method == "POST" else None
    )
    form = GroupMembersForm(
        request.POST if request.method == "POST" else None,
        group=group,
        initial={"members": list(group.members.values_list("pk", flat=True))},
    )
    if request.method == "POST" and form.is_valid():
        chosen = form.cleaned_data["members"]
        saved = attempt(lambda: group_set_members(group=group, membership_ids=chosen), form=form)
        if saved.ok:
            note = f" {saved.value} bucket policies are being updated." if saved.value else ""
            messages.success(request, f"Members of {group.name} saved.{note}")
            return redirect("buckets:group", number=number, group_id=group.pk)
    buckets = buckets_granted_to(group)
    context = {
        "project": membership.project,
        "group": group,
        "form": form,
        "manages": membership.role in MANAGING,
        "buckets": buckets,
        "pending": buckets.filter(policy_dirty=True).count(),
    }
    return render(request, "buckets/group.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@login_required
def group_delete_view(request: HttpRequest, number: str, group_id: int) -> HttpResponse:
    _, group = project_group(request.user, number, group_id, roles=MANAGING)
    if request.method == "POST":
        group_delete(group=group)
        messages.success(request, f"Group {group.name} deleted, with its grants.")
        return redirect("buckets:groups", number=number)
    return render(request, "buckets/confirm_group_delete.html", {"project": group.project, "group": group})
