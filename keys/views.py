from __future__ import annotations

import base64

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from keys.configs import ClientSettings, rclone_config, remote_name
from keys.forms import KeyCreateForm
from keys.models import AccessKey
from keys.services import KeyActionError, key_create, key_delete
from projects.access import membership_for
from projects.views import render_project_page
from storage import client as storage

STORAGE_DOWN = "The storage service is not answering right now; no key was created. Please try again in a minute."


@require_POST
@login_required
@never_cache
def key_create_view(request: HttpRequest, number: str) -> HttpResponse:
    membership = membership_for(request.user, number)
    form = KeyCreateForm(request.POST)
    if form.is_valid():
        try:
            issued = key_create(
                membership=membership, hours=form.cleaned_data["hours"], description=form.cleaned_data["description"]
            )
        except KeyActionError as exc:
            form.add_error(None, str(exc))
        except storage.StorageError:
            form.add_error(None, STORAGE_DOWN)
        else:
            config = rclone_config(
                ClientSettings(
                    issued.key.access_key_id, issued.secret, settings.LATCHKEY_S3_ENDPOINT, storage.region()
                ),
                remote=remote_name(membership.project.number),
            )
            # The secret exists only in this response (never stored, never in a URL we serve):
            # the page shows it once and offers the config as a client-side data: download.
            return render(
                request,
                "keys/created.html",
                {
                    "key": issued.key,
                    "secret": issued.secret,
                    "project": membership.project,
                    "rclone_conf": config,
                    "rclone_conf_b64": base64.b64encode(config.encode()).decode(),
                    "remote": remote_name(membership.project.number),
                },
            )
    return render_project_page(request, membership, form=form, status=400)


@require_http_methods(["GET", "POST"])
@login_required
def key_delete_view(request: HttpRequest, number: str, access_key_id: str) -> HttpResponse:
    membership = membership_for(request.user, number)
    key = (
        AccessKey.objects.select_related("project")
        .filter(
            access_key_id=access_key_id,
            owner=membership.user,
            project=membership.project,
            status=AccessKey.Status.ACTIVE,
        )
        .first()
    )
    if key is None:
        raise Http404("No such key")
    if request.method == "POST":
        try:
            key_delete(key=key)
        except KeyActionError as exc:
            messages.error(request, str(exc))
        except storage.StorageError:
            messages.error(request, "The storage service is not answering; the key was not deleted. Try again.")
        else:
            messages.success(request, f"Key {key.access_key_id} deleted. It no longer works.")
        return redirect("projects:detail", number=number)
    return render(request, "keys/confirm_delete.html", {"key": key, "project": membership.project})
