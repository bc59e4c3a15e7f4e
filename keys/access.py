"""The one place that finds a key for a request: only its owner, in a project they belong to."""

from __future__ import annotations

from django.http import Http404

from keys.models import AccessKey
from projects.access import membership_for
from projects.models import Membership


def owned_key(user: object, number: str, access_key_id: str) -> tuple[Membership, AccessKey]:
    membership = membership_for(user, number)
    key = (
        AccessKey.objects.select_related("project", "owner")
        .filter(access_key_id=access_key_id, owner=membership.user, project=membership.project)
        .exclude(status=AccessKey.Status.PENDING)
        .first()
    )
    if key is None:
        raise Http404("No such key")
    return membership, key
