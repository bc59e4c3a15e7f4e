"""Browser sessions end when their person's identity provider refuses them (lifecycle/recheck.py
sets ``User.sessions_ended_at``): a session that logged in before that is logged out at its next
request, and one that cannot show when it logged in is logged out too (fail closed)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

from accounts.signals import LOGIN_AT


class EndedSessionsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        ended = getattr(user, "sessions_ended_at", None) if user is not None and user.is_authenticated else None
        if ended is not None:
            logged_in = request.session.get(LOGIN_AT)
            if not isinstance(logged_in, int | float) or logged_in < ended.timestamp():
                logout(request)
        return self.get_response(request)
