"""Every API error is JSON naming the field and the reason: ``{"errors": {"field": ["reason"]}}``
for bad input, ``{"detail": "reason"}`` otherwise. Domain errors from the services become 400,
Ceph trouble 503; nothing reaches the client as a 500 page."""

from __future__ import annotations

from typing import Any

from django.forms import Form
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

from buckets.services import BucketError
from keys.services import KeyActionError
from portal.http import STORAGE_DOWN
from storage import client as storage

NON_FIELD = "non_field_errors"


class StorageDown(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = STORAGE_DOWN
    default_code = "storage_unavailable"


def form_errors(form: Form) -> ValidationError:
    return ValidationError({(name if name != "__all__" else NON_FIELD): [e["message"] for e in errors]
                            for name, errors in form.errors.get_json_data().items()})  # fmt: skip


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, BucketError):
        exc = ValidationError({exc.field or NON_FIELD: [str(exc)]})
    elif isinstance(exc, KeyActionError):
        exc = ValidationError({NON_FIELD: [str(exc)]})
    elif isinstance(exc, storage.StorageError):
        exc = StorageDown()
    response = drf_handler(exc, context)
    if response is not None and isinstance(exc, ValidationError):
        data = response.data if isinstance(response.data, dict) else {NON_FIELD: response.data}
        response.data = {"errors": data}
    return response
