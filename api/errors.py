"""Every API error is JSON naming the field and the reason: ``{"errors": {"field": ["reason"]}}``
for bad input, ``{"detail": "reason"}`` otherwise. A refusal (portal.errors.Refused) becomes 400,
an unavailable service 503; nothing reaches the client as a 500 page."""

from __future__ import annotations

from typing import Any

from django.forms import Form
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError, Throttled, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

from portal import ratelimit
from portal.errors import UNAVAILABLE, Refused, Unavailable

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
    response = drf_handler(exc, context)
    if response is not None and isinstance(exc, ValidationError):
        data = response.data if isinstance(response.data, dict) else {NON_FIELD: response.data}
        response.data = {"errors": data}
    return response
