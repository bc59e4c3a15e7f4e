"""Rules for what a person may ask of keys, shared by the pages and the API."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.html import strip_tags


def clean_description_text(value: str) -> str:
    value = value.strip()
    if "<" in value or ">" in value or strip_tags(value) != value:
        raise ValidationError("The description cannot contain '<' or '>'.")
    if any(ord(ch) < 32 for ch in value):
        raise ValidationError("The description cannot contain control characters.")
    return value


def endpoint_url(name: str) -> str:
    """The URL of the endpoint called ``name``; the site's first when ``name`` is empty."""
    return dict(settings.LATCHKEY_S3_ENDPOINTS).get(name) or settings.LATCHKEY_S3_ENDPOINTS[0][1]
