"""Which IdP login approved a CLI token, so a reveal through the API follows the web's rule
(accounts.signals.auth_time_fresh): the ``auth_time`` of the browser session that approved the
device login is carried to the access token that device login issued, and only to that one (a
token from a later refresh was not issued by a login).

Both views wrap allauth's own and change nothing of what they answer: the approval remembers
that session's ``auth_time`` under the device code for the code's lifetime; the token endpoint,
having issued tokens for that device code, writes it into the access token's data.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from allauth.idp.oidc import views as oidc
from allauth.idp.oidc.adapter import get_adapter
from allauth.idp.oidc.internal.oauthlib import device_codes
from allauth.idp.oidc.models import Token
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from accounts.signals import AUTH_AT

AUTH_AT_DATA = "latchkey_auth_at"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def _stash_key(device_code: str) -> str:
    return "device-approval:" + hashlib.sha256(device_code.encode()).hexdigest()


def device_authorization(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    device_code = None
    if request.method == "POST" and request.POST.get("action") == "confirm" and request.user.is_authenticated:
        try:  # before the view: once confirmed, the code no longer validates
            device_code, _ = device_codes.validate_user_code(request.GET.get("code", ""))
        except ValidationError:
            device_code = None
    response = oidc.device_authorization(request, *args, **kwargs)
    if device_code is not None and response.status_code == 200:
        approval = {"user": request.user.pk, "auth_at": request.session.get(AUTH_AT)}
        cache.set(_stash_key(device_code), approval, settings.IDP_OIDC_DEVICE_CODE_EXPIRES_IN)
    return response


@csrf_exempt
def token(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    device_code = request.POST.get("device_code") if request.POST.get("grant_type") == DEVICE_GRANT else None
    response = oidc.token(request, *args, **kwargs)
    if device_code and response.status_code == 200:
        _carry_auth_time(device_code, response)
    return response


def _carry_auth_time(device_code: str, response: HttpResponse) -> None:
    approval = cache.get(_stash_key(device_code))
    cache.delete(_stash_key(device_code))
    try:
        access_token = json.loads(response.content).get("access_token")
    except (ValueError, AttributeError):
        return
    if not isinstance(approval, dict) or not isinstance(access_token, str):
        return
    issued = Token.objects.filter(type=Token.Type.ACCESS_TOKEN, hash=get_adapter().hash_token(access_token)).first()
    if issued is None or issued.user_id != approval["user"]:
        return
    data = dict(issued.data) if isinstance(issued.data, dict) else {}
    data[AUTH_AT_DATA] = approval["auth_at"]
    Token.objects.filter(pk=issued.pk).update(data=data)


def token_auth_at(token: Any) -> object:
    """The auth_time of the login that approved ``token`` (an allauth Token), or None."""
    data = getattr(token, "data", None)
    return data.get(AUTH_AT_DATA) if isinstance(data, dict) else None
