"""bench/scale_data.py makes what bench/scale.py says it measures, at a tiny size: the counts,
rows that hang together as the services would have left them, and a sweep with nothing to do."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils import timezone

from accounts.models import User
from bench.scale_data import Size, background_size, fill_background, fill_measured
from buckets.models import Bucket, Grant, Group
from keys.expiry import keys_sweep
from keys.models import AccessKey, KeyEvent
from keys.selectors import keys_of
from projects.models import Invitation, JoinRequest, Membership, Project, Role

pytestmark = [pytest.mark.django_db]


def _without(rows: QuerySet[Any], related: QuerySet[Any]) -> int:
    """How many of ``rows`` have no row in ``related`` (which refers to them with OuterRef)."""
    return rows.annotate(found=Exists(related)).filter(found=False).count()


def test_the_generator_makes_what_it_claims() -> None:
    now = timezone.now()
    measured = fill_measured(projects=3, now=now)
    tiny = Size(projects=6, users=12, keys=60, buckets=4)
    assert fill_background(tiny, now=now) == tiny
    assert fill_background(tiny.scaled(2), now=now) == tiny  # grows by the difference only
    assert background_size() == tiny.scaled(2)

    # The measured part: one user in every measured project, managing the measured one.
    membership = Membership.objects.get(user=measured.user, project=measured.project)
    assert membership.role == Role.MANAGER
    assert Membership.objects.filter(user=measured.user).count() == 3
    assert keys_of(membership).count() == 8
    assert AccessKey.objects.filter(project=measured.project).count() == 308
    assert Bucket.objects.filter(project=measured.project).count() == 8
    assert measured.admin.is_superuser and measured.admin.is_staff

    # Relations valid as the services leave them.
    key_owner_is_member = Membership.objects.filter(user=OuterRef("owner"), project=OuterRef("project"))
    assert _without(AccessKey.objects.all(), key_owner_is_member) == 0
    created = KeyEvent.objects.filter(key=OuterRef("pk"), action=KeyEvent.Action.CREATE)
    assert _without(AccessKey.objects.all(), created) == 0
    assert not KeyEvent.objects.exclude(project=F("key__project")).exists()
    ended = AccessKey.objects.exclude(status=AccessKey.Status.ACTIVE)
    assert not ended.filter(ended_at__isnull=True).exists() and ended.count() >= 0.8 * AccessKey.objects.count()
    ending = KeyEvent.objects.filter(key=OuterRef("pk"), at=OuterRef("ended_at"))
    assert _without(ended, ending) == 0
    assert not Project.objects.exclude(memberships__role=Role.MANAGER).exists()
    assert set(Membership.objects.values_list("role", flat=True)) == set(Role.values)
    assert not Grant.objects.filter(kind=Grant.Kind.MEMBER).exclude(member__project=F("bucket__project")).exists()
    assert not Grant.objects.filter(kind=Grant.Kind.GROUP).exclude(group__project=F("bucket__project")).exists()
    assert not Group.members.through.objects.exclude(membership__project=F("group__project")).exists()
    assert set(Grant.objects.values_list("kind", flat=True)) == set(Grant.Kind.values)
    assert Invitation.objects.exists() and JoinRequest.objects.exists()
    for model in (User, Project, Membership, AccessKey, KeyEvent, Bucket, Grant):
        for row in model.objects.order_by("?")[:5]:  # type: ignore[attr-defined]
            row.full_clean()  # the fields' validators accept what COPY wrote

    # Nothing is due: the sweep the bench times has no key to expire, clean or schedule.
    assert keys_sweep(now=now) == {"expired": 0, "cleaned": 0, "scheduled": 0, "failed": 0}
