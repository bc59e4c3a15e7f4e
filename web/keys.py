from __future__ import annotations

import base64
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.signals import AUTH_PROVIDER, authenticated_within
from buckets.selectors import key_scope_label, with_scope_buckets
from keys.access import owned_key
from keys.configs import remote_name, secret_bundle
from keys.models import AccessKey
from keys.rules import endpoint_url
from keys.selectors import expiry_enforcement, keys_of
from keys.services import key_delete, key_edit_description, key_extend
from lifecycle.keys import FreshLoginNeeded, key_request, key_reveal
from portal import ratelimit
from portal.http import client_ip
from projects.access import membership_for
from web.errors import attempt
from web.forms.keys import EndpointForm, KeyEditForm, KeyExtendForm
from web.projects import key_create_form, render_project_page


def _secret_page(request: HttpRequest, key: AccessKey, secret: str, *, title: str, endpoint: str) -> HttpResponse:
    """The only page that shows a secret. Nothing on it is stored or sent again: the config
    files are client-side data: downloads, and the response is marked no-store."""
    bundle = secret_bundle(
        access_key=key.access_key_id,
        secret=secret,
        project_number=key.project.number,
        endpoint=endpoint,
        scope=key_scope_label(key),
    )
    return render(
        request,
        "keys/created.html",
        {
            "title": title,
            "key": key,
            "secret": secret,
            "project": key.project,
            "endpoint": endpoint,
            "configs": [(c, base64.b64encode(c.content.encode()).decode()) for c in bundle.configs],
            "remote": remote_name(key.project.number),
        },
    )


@require_POST
@login_required
@never_cache
def key_create_view(request: HttpRequest, number: str) -> HttpResponse:
    membership = membership_for(request.user, number)
    form = key_create_form(membership, request.POST)
    if form.is_valid():
        data, ip = form.cleaned_data, client_ip(request)
        try:
            issued = attempt(
                lambda: key_request(
                    membership=membership,
                    hours=data["hours"],
                    description=data["description"],
                    scope=data["key_scope"],
                    ip=ip,
                ),
                form=form,
            )
        except ratelimit.RateLimited as exc:
            return ratelimit.too_many(request, exc, what="new keys")
        if issued.ok and issued.value is not None:
            return _secret_page(
                request,
                issued.value.key,
                issued.value.secret,
                title="Key created",
                endpoint=endpoint_url(data["endpoint"]),
            )
    return render_project_page(request, membership, form=form, status=400)


def _key_page(
    request: HttpRequest,
    key: AccessKey,
    *,
    extend_form: KeyExtendForm | None = None,
    edit_form: KeyEditForm | None = None,
    status: int = 200,
) -> HttpResponse:
    max_hours = key.project.key_max_hours
    return render(
        request,
        "keys/detail.html",
        {
            "key": key,
            "project": key.project,
            "events": key.events.select_related("actor")[:50],
            "extend_form": extend_form or KeyExtendForm(initial={"hours": max_hours}, max_hours=max_hours),
            "edit_form": edit_form or KeyEditForm(initial={"description": key.description}),
            "reveal_allowed": settings.LATCHKEY_REVEAL_POLICY == "reauth",
            "endpoint_form": EndpointForm(),
            "max_hours": max_hours,
            "expiry": expiry_enforcement() if key.status == AccessKey.Status.ACTIVE else None,
        },
        status=status,
    )


@require_GET
@login_required
def key_list_view(request: HttpRequest, number: str) -> HttpResponse:
    """The member's active keys in one project: a light page (one key query, and one for the
    buckets of scoped keys), for phones and for the benchmark's key list."""
    membership = membership_for(request.user, number)
    detail_base = reverse("keys:list", args=[number])  # each key's page is below it
    keys = with_scope_buckets(keys_of(membership))
    context = {"project": membership.project, "keys": keys, "detail_base": detail_base}
    return render(request, "keys/list.html", context)


@require_GET
@login_required
def key_detail_view(request: HttpRequest, number: str, access_key_id: str) -> HttpResponse:
    _, key = owned_key(request.user, number, access_key_id)
    return _key_page(request, key)


@require_POST
@login_required
def key_extend_view(request: HttpRequest, number: str, access_key_id: str) -> HttpResponse:
    membership, key = owned_key(request.user, number, access_key_id)
    form = KeyExtendForm(request.POST, max_hours=key.project.key_max_hours)
    if form.is_valid():
        hours, ip = form.cleaned_data["hours"], client_ip(request)
        if attempt(lambda: key_extend(key=key, hours=hours, actor=membership.user, ip=ip), form=form).ok:
            messages.success(request, "Key extended.")
            return redirect("keys:detail", number=number, access_key_id=access_key_id)
    return _key_page(request, key, extend_form=form, status=400)


@require_POST
@login_required
def key_edit_view(request: HttpRequest, number: str, access_key_id: str) -> HttpResponse:
    membership, key = owned_key(request.user, number, access_key_id)
    form = KeyEditForm(request.POST)
    if form.is_valid():
        text, ip = form.cleaned_data["description"], client_ip(request)
        if attempt(lambda: key_edit_description(key=key, description=text, actor=membership.user, ip=ip), form=form).ok:
            messages.success(request, "Description saved.")
            return redirect("keys:detail", number=number, access_key_id=access_key_id)
    return _key_page(request, key, edit_form=form, status=400)


@require_POST
@login_required
@never_cache
def key_reveal_view(request: HttpRequest, number: str, access_key_id: str) -> HttpResponse:
    membership, key = owned_key(request.user, number, access_key_id)
    endpoint_form = EndpointForm(request.POST)
    if not endpoint_form.is_valid():
        messages.error(request, "Choose one of the listed endpoints.")
        return redirect("keys:detail", number=number, access_key_id=access_key_id)
    fresh, ip = authenticated_within(request, settings.LATCHKEY_REAUTH_SECONDS), client_ip(request)
    try:
        shown = attempt(lambda: key_reveal(membership=membership, key=key, fresh=fresh, ip=ip))
    except ratelimit.RateLimited as exc:
        return ratelimit.too_many(request, exc, what="requests to show a secret")
    except FreshLoginNeeded:
        return _reauth_page(request, key)
    if not shown.ok or shown.value is None:
        messages.error(request, shown.error)
        return redirect("keys:detail", number=number, access_key_id=access_key_id)
    return _secret_page(
        request, key, shown.value, title="Secret key", endpoint=endpoint_url(endpoint_form.cleaned_data["endpoint"])
    )


def _reauth_page(request: HttpRequest, key: AccessKey) -> HttpResponse:
    # A fresh login at the IdP: prompt=login and max_age=0 make it ask again even when the
    # person still has a session there.
    provider = request.session.get(AUTH_PROVIDER) or ""
    next_url = reverse("keys:detail", args=[key.project.number, key.access_key_id]) + "?reveal=1"
    login_url = reverse("openid_connect_login", kwargs={"provider_id": provider}) if provider else ""
    query = urlencode({"process": "login", "next": next_url, "auth_params": "prompt=login&max_age=0"})
    return render(
        request,
        "keys/reauth.html",
        {"key": key, "project": key.project, "login_url": f"{login_url}?{query}" if provider else ""},
        status=403,
    )


@require_http_methods(["GET", "POST"])
@login_required
def key_delete_view(request: HttpRequest, number: str, access_key_id: str) -> HttpResponse:
    membership, key = owned_key(request.user, number, access_key_id)
    if request.method == "POST":
        ip = client_ip(request)
        failed = "The storage service is not answering; the key was not deleted. Try again."
        done = attempt(lambda: key_delete(key=key, actor=membership.user, ip=ip), unavailable=failed)
        if not done.ok:
            messages.error(request, done.error)
        else:
            messages.success(request, f"Key {key.access_key_id} deleted. It no longer works.")
        return redirect("projects:detail", number=number)
    if key.status != AccessKey.Status.ACTIVE:
        messages.error(request, "This key has already ended.")
        return redirect("projects:detail", number=number)
    return render(request, "keys/confirm_delete.html", {"key": key, "project": membership.project})
