"""One way for pages to show what the services refuse, as api/errors.py does for the API: a
refusal (portal.errors.Refused) becomes an error on the form field it names (or the whole
form), an unavailable service the "not answering" message; nothing else is caught."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.db import DatabaseError
from django.forms import Form
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader

from portal.errors import DATABASE_UNAVAILABLE, UNAVAILABLE, Refused, Unavailable

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    value: T | None = None
    error: str = ""  # for the person, empty when the action was done
    unavailable: bool = False

    @property
    def ok(self) -> bool:
        return not self.error


def attempt(action: Callable[[], T], *, form: Form | None = None, unavailable: str = UNAVAILABLE) -> Outcome[T]:
    """Run one service call for a page. With ``form``, the error is also added to it."""
    try:
        return Outcome(value=action())
    except Refused as exc:
        if form is not None:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        return Outcome(error=str(exc))
    except Unavailable:
        if form is not None:
            form.add_error(None, unavailable)
        return Outcome(error=unavailable, unavailable=True)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's last resort (handler500), for whatever failed outside a view's own handling: a
    database that does not answer is a 503, not a 500, and the API answers JSON in its shape
    (api/errors.py). Rendered without the request's context: nothing here may query."""
    down = isinstance(sys.exc_info()[1], DatabaseError)
    status = 503 if down else 500
    if request.path.startswith("/api/"):
        reason = DATABASE_UNAVAILABLE if down else "Latchkey could not finish this request; the error has been logged."
        return JsonResponse({"detail": reason, "errors": {"non_field_errors": [reason]}}, status=status)
    page = loader.get_template("500.html").render({"database_down": down})
    return HttpResponse(page, status=status)
