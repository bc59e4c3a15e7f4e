"""Sending mail with text that people and identity providers chose (names, descriptions).

A line break in a header is how mail headers are forged, and Django refuses one with an
exception: a name like "Eve\\nBcc: x" sent by an IdP must neither add a header nor fail the
request that already committed. So subjects are flattened and cut here, once for every sender.
"""

from __future__ import annotations

import logging
import re

from django.core.mail import BadHeaderError, send_mail

log = logging.getLogger(__name__)
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]+")
SUBJECT_MAX = 200


def safe_subject(text: str) -> str:
    flat = _CONTROL.sub(" ", text).strip()
    return flat if len(flat) <= SUBJECT_MAX else flat[: SUBJECT_MAX - 1] + "…"


def mail(subject: str, body: str, to: list[str]) -> bool:
    """Send one message; False when it could not be sent (logged, never raised)."""
    recipients = [address for address in to if address and not _CONTROL.search(address)]
    if not recipients:
        return False
    try:
        send_mail(safe_subject(subject), body, None, recipients)
    except (OSError, BadHeaderError, ValueError) as exc:
        log.warning("mail %r not sent (%s)", safe_subject(subject), type(exc).__name__)
        return False
    return True
