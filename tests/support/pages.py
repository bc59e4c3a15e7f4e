"""Checks on what a rendered page shows."""

from __future__ import annotations

import re

from django.http import HttpResponse

# Django's template syntax: none of it belongs in a page (a "{# #}" comment spans one line only,
# so a two-line one is shown to everyone, as the key-created page once did).
TEMPLATE_TEXT = ("{#", "#}", "{{", "{%")  # closing "}}" is common in JSON (the policy page)
TITLE = re.compile(r"<title>(.*?)</title>", re.S)


def assert_no_template_text(response: HttpResponse) -> None:
    """Fail if an HTML answer shows template syntax, or markup inside its <title>."""
    if not response.get("Content-Type", "").startswith("text/html") or getattr(response, "streaming", False):
        return
    html = response.content.decode()
    shown = [token for token in TEMPLATE_TEXT if token in html]
    assert not shown, f"{response.wsgi_request.path}: template text {shown} in the page: " + _around(html, shown[0])
    title = TITLE.search(html)
    assert title is None or "<" not in title.group(1), f"markup in the title: {title.group(1)!r}"


def _around(html: str, token: str) -> str:
    at = html.index(token)
    return repr(html[max(0, at - 120) : at + 120])
