"""Every API error is JSON naming the field and the reason: ``{"errors": {"field": ["reason"]}}``
for bad input (a nested list's item errors flattened to "item N: reason"), ``{"detail": "reason"}``
otherwise. A refusal (portal.errors.Refused) becomes 400, an unavailable service (Ceph, or
Latchkey's own database) 503 with both ``detail`` and ``errors``; nothing reaches the client as
a 500 page (web/errors.py answers what fails before a view runs)."""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError
from django.forms import Form
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError, Throttled, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

from portal import ratelimit
from portal.errors import DATABASE_UNAVAILABLE, UNAVAILABLE, Refused, Unavailable

NON_FIELD = "non_field_errors"


class StorageDown(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = UNAVAILABLE
    default_code = "storage_unavailable"


def form_errors(form: Form) -> ValidationError:
    return ValidationError(
        {
            (name if name != "__all__" else NON_FIELD): [e["message"] for e in errors]
            for name, errors in form.errors.get_json_data().items()
        }
    )


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ParseError):  # a body that is not JSON: bad input like any other
        exc = ValidationError({NON_FIELD: [str(exc.detail)]})
    elif isinstance(exc, ratelimit.RateLimited):
        exc = Throttled(wait=exc.retry_after)
    elif isinstance(exc, Refused):
        exc = ValidationError({exc.field or NON_FIELD: [str(exc)]})
    elif isinstance(exc, Unavailable):
        exc = StorageDown()
    elif isinstance(exc, DatabaseError):
        return Response(service_down(DATABASE_UNAVAILABLE), status=status.HTTP_503_SERVICE_UNAVAILABLE)
    response = drf_handler(exc, context)
    if response is not None and isinstance(exc, StorageDown):
        response.data = service_down(UNAVAILABLE)
    if response is not None and isinstance(exc, ValidationError):
        data = response.data if isinstance(response.data, dict) else {NON_FIELD: response.data}
        response.data = {"errors": {str(field): _messages(reasons) for field, reasons in data.items()}}
    return response


def _messages(reasons: Any, where: str = "") -> list[str]:
    """The schema's shape, a list of strings, whatever DRF nested: a list field's item errors
    come keyed by index ({"2": [...]}) and a nested object's by field; each becomes one line
    that says where ("item 3: …")."""
    if isinstance(reasons, dict):
        out: list[str] = []
        for key, value in reasons.items():
            label = f"item {int(key) + 1}" if str(key).isdigit() else str(key)
            out.extend(_messages(value, f"{where}{label}: "))
        return out
    if isinstance(reasons, list):
        return [line for reason in reasons for line in _messages(reason, where)]
    return [f"{where}{reasons}"]


def service_down(reason: str) -> dict[str, Any]:
    """A 503's body: ``detail`` as every other refusal has it, and ``errors`` as bad input has it."""
    return {"detail": reason, "errors": {NON_FIELD: [reason]}}
