"""Secrets are never logged: every log line of the whole run is searched for every secret that
Ceph issued for a Latchkey key during the run (see tests/support/secret_log_watch.py). Under make test
this runs last and covers hundreds of keys; it also makes, uses and deletes one of its own."""

from __future__ import annotations

import pytest
from django.urls import reverse

from keys.models import AccessKey
from tests.support.secret_log_watch import LINES, SECRETS
from tests.support.web import client_for

pytestmark = [pytest.mark.django_db, pytest.mark.ceph]


def test_no_secret_in_any_log_line(project, member_of) -> None:  # type: ignore[no-untyped-def]
    client = client_for(member_of(project).user, fresh_login=True)
    client.post(reverse("keys:create", args=[project.number]), {"hours": "1", "description": "log watch"})
    key = AccessKey.objects.get(project=project)
    client.post(reverse("keys:reveal", args=[project.number, key.access_key_id]))
    client.post(reverse("keys:delete", args=[project.number, key.access_key_id]))
    assert SECRETS and any(key.access_key_id in line for line in LINES)  # the watch saw this key's lines
    leaks = [(secret[:4], line[:200]) for line in LINES for secret in SECRETS if secret in line]
    assert not leaks, leaks[:5]
