"""A Django test client logged in as one of the cast."""

from __future__ import annotations

import time

from django.test import Client

from accounts.models import User
from accounts.signals import AUTH_AT, AUTH_PROVIDER


def client_for(user: User | None, *, fresh_login: bool = False) -> Client:
    """Anonymous for None. ``fresh_login``: the IdP login happened just now (else an hour ago)."""
    client = Client()
    if user is not None:
        client.force_login(user)
        session = client.session
        session[AUTH_PROVIDER] = "myaccessid"
        session[AUTH_AT] = int(time.time()) - (0 if fresh_login else 3600)
        session.save()
    return client
