"""The key audit log of a project: the owner sees their own keys' events; managers and
deputies see the whole project's. CSV export for the same rows."""

from __future__ import annotations

import csv

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from keys.selectors import events_visible_to
from projects.access import membership_for
from projects.models import MANAGING
from web.csvfile import safe_cell

PAGE = 200


@require_GET
@login_required
def audit_view(request: HttpRequest, number: str) -> HttpResponse:
    membership = membership_for(request.user, number)
    return render(
        request,
        "keys/audit.html",
        {
            "project": membership.project,
            "membership": membership,
            "events": events_visible_to(membership)[:PAGE],
            "whole_project": membership.role in MANAGING,
        },
    )


@require_GET
@login_required
def audit_csv_view(request: HttpRequest, number: str) -> HttpResponse:
    membership = membership_for(request.user, number)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="latchkey-audit-{membership.project.number}.csv"'
    writer = csv.writer(response)
    writer.writerow(["time", "action", "access_key_id", "key_owner", "actor", "ip", "detail"])
    for event in events_visible_to(membership).iterator():
        writer.writerow(
            [
                event.at.isoformat(),
                event.action,
                event.key.access_key_id,
                event.key.owner.username,
                event.actor.username if event.actor else "latchkey",
                event.ip or "",
                safe_cell(event.detail),
            ]
        )
    return response
