"""Join requests and member management. Thin: the rules are in projects/members.py and lifecycle/members.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import User
from lifecycle.members import member_change_role, member_remove
from projects.access import managing_membership, project_join_request, project_member
from projects.members import (
    invitation_answer,
    invitation_create,
    invitations_for,
    join_request_create,
    join_request_decide,
)
from projects.models import Role
from web.errors import attempt
from web.forms.projects import InviteForm, JoinRequestForm, RoleForm


@require_http_methods(["GET", "POST"])
@login_required
def join_request_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    form = JoinRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        project = data["number"]
        sent = "If that project exists, its managers have your request; they decide and you will get an e-mail."
        if project is None:  # nothing is sent, and the answer is the same
            messages.success(request, sent)
            return redirect("projects:list")
        if attempt(lambda: join_request_create(user=user, project=project, reason=data["reason"]), form=form).ok:
            messages.success(request, sent)
            return redirect("projects:list")
    return render(request, "projects/join.html", {"form": form}, status=400 if form.errors else 200)


@require_POST
@login_required
def join_request_decide_view(request: HttpRequest, number: str, request_id: int, decision: str) -> HttpResponse:
    actor = managing_membership(request.user, number)
    join = project_join_request(actor, request_id)
    done = attempt(lambda: join_request_decide(actor=actor, request=join, approve=decision == "approve"))  # by the URL
    if not done.ok:
        messages.error(request, done.error)
    else:
        messages.success(
            request, f"Request of {join.user.username} {'approved' if decision == 'approve' else 'rejected'}."
        )
    return redirect("projects:detail", number=number)


@require_POST
@login_required
def member_role_view(request: HttpRequest, number: str, membership_id: int) -> HttpResponse:
    actor = managing_membership(request.user, number)
    target = project_member(actor, membership_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for e in form.errors["role"]))
        return redirect("projects:detail", number=number)
    done = attempt(lambda: member_change_role(actor=actor, target=target, role=Role(form.cleaned_data["role"])))
    if not done.ok:
        messages.error(request, done.error)
    else:
        messages.success(request, f"{target.user.username} is now {Role(form.cleaned_data['role']).label.lower()}.")
    return redirect("projects:detail", number=number)


@require_http_methods(["GET", "POST"])
@login_required
def member_remove_view(request: HttpRequest, number: str, membership_id: int) -> HttpResponse:
    actor = managing_membership(request.user, number)
    target = project_member(actor, membership_id)
    if request.method == "POST":
        done = attempt(lambda: member_remove(actor=actor, target=target))
        if not done.ok:
            messages.error(request, done.error)
        else:
            messages.success(request, f"{target.user.username} was removed; their keys no longer work.")
        return redirect("projects:detail", number=number)
    return render(request, "projects/confirm_remove.html", {"target": target, "project": actor.project})


@require_POST
@login_required
def invite_view(request: HttpRequest, number: str) -> HttpResponse:
    actor = managing_membership(request.user, number)
    form = InviteForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(str(e) for e in errors))
        return redirect("projects:detail", number=number)
    data = form.cleaned_data
    done = attempt(lambda: invitation_create(actor=actor, email=data["email"], role=Role(data["role"])))
    if not done.ok:
        messages.error(request, done.error)
    else:
        messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
    return redirect("projects:detail", number=number)


@require_POST
@login_required
def invitation_answer_view(request: HttpRequest, invitation_id: int, answer: str) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    invitation = next((i for i in invitations_for(user) if i.pk == invitation_id), None)
    if invitation is None:
        raise Http404("No such invitation")
    done = attempt(lambda: invitation_answer(user=user, invitation=invitation, accept=answer == "accept"))
    if not done.ok:  # answer is set by the URL, not the user
        messages.error(request, done.error)
    else:
        messages.success(request, f"Invitation to project {invitation.project.number} {answer}ed.")
    return redirect("projects:list")
