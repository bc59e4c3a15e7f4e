"""`manage.py key_set_expiry`: an operator moves a key's end, earlier or later, through the same
service and record as extending; the key is refused by S3 once that end has passed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from keys.expiry import keys_sweep
from keys.models import AccessKey, KeyEvent
from lifecycle.keys import key_create
from lifecycle.memberships import membership_end
from projects.models import Membership, Project
from tests.support.s3 import s3_error_code, wait_refused

pytestmark = [pytest.mark.django_db, pytest.mark.ceph]


def _set(access_key_id: str, *args: str) -> str:
    out = StringIO()
    call_command("key_set_expiry", access_key_id, *args, stdout=out)
    return out.getvalue()


def test_an_operator_ends_a_leaked_key_in_seconds_and_s3_refuses_it_then(
    project: Project, member_of: Callable[..., Membership]
) -> None:
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        issued = key_create(membership=member_of(project), hours=24, description="leaked")
        output = _set(issued.key.access_key_id, "--in", "10")
    key = AccessKey.objects.get(pk=issued.key.pk)
    assert key.expires_at == start + timedelta(seconds=10)
    assert output.strip() == f"{key.access_key_id}: ends {key.expires_at.isoformat()}"
    event = key.events.get(action=KeyEvent.Action.SET_EXPIRY)
    assert (event.actor, event.detail) == (
        None,
        f"{(start + timedelta(hours=24)).isoformat()} -> {key.expires_at.isoformat()}",
    )
    assert keys_sweep(now=start + timedelta(seconds=9))["expired"] == 0
    assert s3_error_code(key.access_key_id, issued.secret) is None
    assert keys_sweep(now=start + timedelta(seconds=10))["expired"] == 1
    assert wait_refused(key.access_key_id, issued.secret) == "InvalidAccessKeyId"


def test_a_later_end_within_the_projects_limit_and_at_a_given_time(
    project: Project, member_of: Callable[..., Membership]
) -> None:
    start = timezone.now().replace(microsecond=0)
    issued = key_create(membership=member_of(project), hours=1, description="job", now=start)
    at = start + timedelta(hours=100)
    with time_machine.travel(start, tick=False):
        _set(issued.key.access_key_id, "--at", at.isoformat())
        assert AccessKey.objects.get(pk=issued.key.pk).expires_at == at
        with pytest.raises(CommandError, match="at most 168 hours"):
            _set(issued.key.access_key_id, "--in", str(168 * 3600 + 1))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--in", "0"), "1 or more"),
        (("--in", "-5"), "1 or more"),
        (("--at", "2026-12-08T09:00:00"), "UTC offset"),
        (("--at", "tomorrow"), "UTC offset"),
        (("--at", "2000-01-01T00:00:00+00:00"), "must be in the future"),
    ],
)
def test_bad_input_is_named_and_changes_nothing(
    project: Project, member_of: Callable[..., Membership], args: tuple[str, str], message: str
) -> None:
    issued = key_create(membership=member_of(project), hours=2, description="job")
    with pytest.raises(CommandError, match=message):
        _set(issued.key.access_key_id, *args)
    assert AccessKey.objects.get(pk=issued.key.pk).expires_at == issued.key.expires_at
    assert not KeyEvent.objects.filter(key=issued.key, action=KeyEvent.Action.SET_EXPIRY).exists()


def test_an_unknown_or_ended_key_and_a_later_end_after_the_membership_ended(
    project: Project, member_of: Callable[..., Membership]
) -> None:
    with pytest.raises(CommandError, match="No key has the id"):
        _set("LKNOSUCHKEY000000000", "--in", "60")
    membership = member_of(project)
    issued = key_create(membership=membership, hours=2, description="job")
    Membership.objects.filter(pk=membership.pk).update(rgw_access="stale")
    with pytest.raises(CommandError, match="still being applied"):
        _set(issued.key.access_key_id, "--in", str(3 * 3600))  # later: refused while stale
    _set(issued.key.access_key_id, "--in", "600")  # earlier: always allowed
    membership_end(membership=Membership.objects.get(pk=membership.pk))
    with pytest.raises(CommandError, match="expired or was deleted"):
        _set(issued.key.access_key_id, "--in", "60")
