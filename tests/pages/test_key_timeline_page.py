"""The key timeline on the project page, with real keys behind it: a member sees their own live
keys, managers and deputies every member's, each named with its owner; no keys, no timeline."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from keys.services import key_delete
from lifecycle.keys import key_create
from projects.models import Membership, Role
from tests.support.web import client_for

pytestmark = [pytest.mark.django_db, pytest.mark.ceph]


def _timeline(user, project) -> str:  # type: ignore[no-untyped-def]
    page = client_for(user).get(reverse("projects:detail", args=[project.number])).content.decode()
    found = re.search(r'<figure class="timeline">.*?</figure>', page, re.S)
    return found.group(0) if found else ""


def _bars(figure: str) -> list[str]:
    """The key ids of the bars, in order."""
    return re.findall(r'<g class="tl-key">\s*<title>(\w+)', figure)


@pytest.fixture
def keys(project, cast):  # type: ignore[no-untyped-def]
    member = Membership.objects.get(project=project, role=Role.MEMBER)
    deputy = Membership.objects.get(project=project, role=Role.DEPUTY)
    made = {
        "member": key_create(membership=member, hours=30, description="nightly run").key,
        "deputy": key_create(membership=deputy, hours=2, description="quick copy").key,
        "gone": key_create(membership=member, hours=5, description="ended").key,
    }
    key_delete(key=made["gone"], actor=member.user)
    return made


def test_a_member_sees_only_their_own_live_keys(project, cast, keys) -> None:  # type: ignore[no-untyped-def]
    figure = _timeline(cast["member"], project)
    assert _bars(figure) == [keys["member"].access_key_id]
    assert 'role="img" aria-labelledby="timeline-title" aria-describedby="timeline-desc"' in figure
    assert "Key timeline: 1 key; it ends in 29 hours" in figure  # 30 h less the seconds since
    assert 'class="tl-now"' in figure
    # A 30 h key gets both default reminders (24 h, 1 h), drawn and listed in the table.
    assert figure.count('class="tl-reminder"') == 2
    assert "24 h before:" in figure and "1 h before:" in figure
    assert keys["deputy"].access_key_id not in figure and keys["gone"].access_key_id not in figure


@pytest.mark.parametrize("role", ["manager", "deputy"])
def test_managers_see_every_members_keys_with_the_owner(project, cast, keys, role) -> None:  # type: ignore[no-untyped-def]
    figure = _timeline(cast[role], project)
    assert _bars(figure) == [keys["deputy"].access_key_id, keys["member"].access_key_id]  # soonest first
    assert "Key timeline: 2 keys; the first ends in" in figure
    for owner in ("member", "deputy"):
        assert f"· {cast[owner].username}</text>" in figure  # type: ignore[union-attr]
        assert f"<td>{cast[owner].username}</td>" in figure  # type: ignore[union-attr]
    # The 2 h key is shorter than the 24 h reminder: only its 1 h reminder is drawn.
    assert figure.count('class="tl-reminder"') == 3
    assert keys["gone"].access_key_id not in figure


def test_no_live_keys_no_timeline(project, cast) -> None:  # type: ignore[no-untyped-def]
    page = client_for(cast["manager"]).get(reverse("projects:detail", args=[project.number])).content.decode()
    assert "You have no active keys in this project" in page
    assert "timeline" not in page


def test_the_timeline_costs_one_query_however_many_keys(project, cast, keys, member_of) -> None:  # type: ignore[no-untyped-def]
    def queries() -> int:
        client = client_for(cast["manager"])
        with CaptureQueriesContext(connection) as captured:
            client.get(reverse("projects:detail", args=[project.number]))
        return len(captured)

    before = queries()
    for _ in range(3):
        key_create(membership=member_of(project), hours=4, description="more")
    assert queries() == before  # no query per bar or per owner
