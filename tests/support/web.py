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


def admin_project_form(**fields: str) -> dict[str, str]:
    """The Django admin's project form as posted: ``fields`` over empty quota fields and an empty
    memberships inline."""
    return {
        "quota_gb": "",
        "quota_max_buckets": "",
        "quota_max_objects": "",
        "max_key_hours": "",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        **fields,
    }
