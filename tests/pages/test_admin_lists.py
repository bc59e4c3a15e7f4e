"""The Django admin's key list on a table of every key ever issued (bench/scale.py measures it
at 100,000 keys): one count per page, and the newest keys read from an index, not sorted."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from keys.models import AccessKey
from lifecycle.keys import key_create
from projects.models import Membership, Project
from tests.support.s3 import s3_error_code, wait_refused
from tests.support.web import client_for

pytestmark = [pytest.mark.django_db]


def test_admin_key_list_counts_once_and_takes_its_order_from_an_index(project: Project, cast: dict[str, Any]) -> None:
    now = timezone.now()
    AccessKey.objects.bulk_create(
        AccessKey(
            access_key_id=f"LKADMINLIST{n:09d}",
            project=project,
            owner=cast["member"],
            subuser="m",
            description="old key",
            status=AccessKey.Status.EXPIRED,
            created_at=now - timedelta(days=n),
            expires_at=now - timedelta(days=n, hours=-1),
            ended_at=now - timedelta(days=n, hours=-1),
        )
        for n in range(3)
    )
    with CaptureQueriesContext(connection) as page:
        response = client_for(cast["operator"]).get(reverse("admin:keys_accesskey_changelist"))
    assert response.status_code == 200 and "LKADMINLIST000000002" in response.content.decode()
    sqls = [query["sql"] for query in page.captured_queries]
    assert sum("COUNT(" in sql for sql in sqls) == 1
    listing = next(sql for sql in sqls if 'ORDER BY "keys_accesskey"."created_at" DESC' in sql)
    with connection.cursor() as cursor:
        # A table this small is cheapest to scan and sort; forbid both so the plan shows whether
        # an index can give the order (without one, the planner must scan and sort anyway).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + listing)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan Backward using key_created" in plan, plan


@pytest.mark.ceph
def test_operators_revoke_keys_in_the_admin_and_cannot_delete_them(project: Project, cast: dict[str, Any]) -> None:
    """L3: a deleted row would leave its key alive in Ceph for ever, with its history gone."""
    membership = Membership.objects.get(project=project, user=cast["member"])
    issued = key_create(membership=membership, hours=2, description="leaked")
    operator = client_for(cast["operator"])
    key = issued.key
    assert operator.get(reverse("admin:keys_accesskey_delete", args=[key.pk])).status_code == 403
    listing = operator.get(reverse("admin:keys_accesskey_changelist")).content.decode()
    assert "delete_selected" not in listing and 'value="revoke"' in listing
    refused = operator.post(
        reverse("admin:keys_accesskey_changelist"),
        {"action": "delete_selected", "_selected_action": [key.pk], "post": "yes"},
    )
    assert refused.status_code in (200, 302) and AccessKey.objects.filter(pk=key.pk).exists()
    assert s3_error_code(key.access_key_id, issued.secret) is None
    done = operator.post(reverse("admin:keys_accesskey_changelist"), {"action": "revoke", "_selected_action": [key.pk]})
    assert done.status_code == 302
    key.refresh_from_db()
    assert key.status == AccessKey.Status.REVOKED
    assert wait_refused(key.access_key_id, issued.secret) == "InvalidAccessKeyId"
