"""How the API's authentication appears in the OpenAPI schema: bearer tokens."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


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
