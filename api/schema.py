"""The OpenAPI schema as it should read: bearer tokens, and every error an operation can answer
with its shape (api/errors.py), not only the success."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers


class ErrorOut(serializers.Serializer[Any]):
    detail = serializers.CharField(help_text="What went wrong, for the person who asked.")


class BadInputOut(serializers.Serializer[Any]):
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text='Each field with its reasons; "non_field_errors" for the request as a whole.',
    )


class ServiceDownOut(serializers.Serializer[Any]):
    detail = serializers.CharField(help_text="Which service is not answering; nothing was changed.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text='The same reason under "non_field_errors", as bad input carries its reasons.',
    )


# Every operation may answer these; a write may also answer 400 (bad input, or a refusal such as
# deleting a key that has already ended).
ERRORS: dict[str, tuple[type[serializers.Serializer[Any]], str]] = {
    "401": (ErrorOut, "No valid access token (or browser session)."),
    "403": (ErrorOut, "Not allowed for your role in this project, or a fresh login is needed."),
    "404": (ErrorOut, "No such project, key, bucket or grant for you (outsiders always get this)."),
    "429": (ErrorOut, "Too many requests of this kind; retry after the Retry-After header's seconds."),
    "503": (ServiceDownOut, "The storage service or Latchkey's database is not answering; nothing was changed."),
}
BAD_INPUT = (BadInputOut, "Bad input or a refused change: each field named with its reasons.")


class LatchkeySchema(AutoSchema):
    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        errors = dict(ERRORS)
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            errors["400"] = BAD_INPUT
        for code, (serializer, description) in errors.items():
            if code not in responses:
                answer = self._get_response_for_code(serializer, code, direction=direction)
                responses[code] = {**answer, "description": description}
        return dict(sorted(responses.items()))


class LatchkeyTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.LatchkeyTokenAuthentication"
    name = "latchkeyToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "http", "scheme": "bearer", "description": "Latchkey's own access token (`latchkey login`)."}


class UpstreamTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.UpstreamTokenAuthentication"
    name = "upstreamToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "http", "scheme": "bearer", "description": "An identity provider's token (e.g. oidc-agent)."}
