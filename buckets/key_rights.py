"""Each key's rights, where keys carry their own (``Home.rights_in_keys``: RGW accounts): computed
from the same facts as the tenant model's bucket policies (buckets/reach.py), and kept in Ceph
as the database changes. A key's rights are what its owner may do now, within its scope:

- a member's key (manager, deputy, member): the role's actions wherever it is let in, less a
  Deny in each bucket of the project its owner may not fully use (``policy.tier_denies``: the
  same tiers, ends and addresses a subuser's Deny statements carry);
- a read-only key (every key of a read-only member, lifecycle.keys.scope_for_role): reading,
  narrowed the same way;
- a key limited to chosen buckets: an Allow per bucket, for each reason its owner may reach it,
  at the lower of that reason's level and the key's.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from buckets import policy
from buckets.models import Bucket, Grant, KeyBucket
from buckets.reach import live_grants_by_bucket, owner_sources
from keys.models import AccessKey
from keys.scopes import KeyScope
from keys.services import LIVE, key_locked
from projects.models import MANAGING, WRITING, Membership, Project
from storage import homes
from storage.identity import KeyRights, Narrowing, Reach, rights_json

log = logging.getLogger(__name__)


def _actions(role: str, scope: str) -> str:
    if scope != AccessKey.Scope.MEMBER or role not in WRITING:
        return "read"
    return "manage" if role in MANAGING else "write"


def _narrowed(
    membership: Membership, buckets: list[Bucket], grants: dict[int, list[Grant]], *, writes: bool
) -> tuple[Narrowing, ...]:
    if membership.role in MANAGING:
        return ()
    found: list[Narrowing] = []
    for bucket in buckets:
        sources = list(owner_sources(bucket, membership, grants[bucket.pk]))
        read = policy.tier_denies("read", sources)
        found += [Narrowing(bucket.name, "read", start, allowed) for start, allowed in read]
        if writes:
            all_denied_from = next((start for start, allowed in read if not allowed), None)
            found += [
                Narrowing(bucket.name, "write", start, allowed)
                for start, allowed in policy.tier_denies("write", sources)
                if all_denied_from is None or start < all_denied_from  # ISO 8601 times sort as text
            ]
    return tuple(found)


def key_rights(
    key: AccessKey,
    *,
    membership: Membership | None,
    scope: KeyScope | None = None,
    now: datetime | None = None,
    facts: tuple[list[Bucket], dict[int, list[Grant]]] | None = None,
) -> KeyRights:
    """What ``key`` may do now; nothing at all once its owner's membership has ended. ``scope``:
    the scope asked for (a new key's chosen buckets are not recorded yet); ``facts``: the
    project's buckets and their live grants, when many keys are computed at once."""
    if membership is None or membership.status != Membership.Status.ACTIVE:
        return KeyRights(ends_at=key.expires_at, anywhere=False)
    now = now or timezone.now()
    buckets, grants = facts or _facts(key.project_id, now=now)
    if key.scope == AccessKey.Scope.BUCKETS:
        chosen = (
            dict(scope.buckets)
            if scope is not None
            else dict(KeyBucket.objects.filter(key=key).values_list("bucket__name", "access"))
        )
        reach = []
        for bucket in buckets:
            if bucket.name not in chosen:
                continue
            for source in owner_sources(bucket, membership, grants[bucket.pk]):
                level = min(chosen[bucket.name], source.level, key=policy.LEVELS.__getitem__)
                reach.append(Reach(bucket.name, level, tuple(sorted(source.cidrs)), source.expires_at))
        return KeyRights(ends_at=key.expires_at, anywhere=False, reach=tuple(reach))
    actions = _actions(membership.role, key.scope)
    narrowed = _narrowed(membership, buckets, grants, writes=actions != "read")
    return KeyRights(ends_at=key.expires_at, actions=actions, narrowed=narrowed)


def _facts(project_id: int, *, now: datetime) -> tuple[list[Bucket], dict[int, list[Grant]]]:
    buckets = list(Bucket.objects.filter(project_id=project_id).order_by("name"))
    return buckets, live_grants_by_bucket(buckets, now=now)


def keys_rights_sync(
    *, project: Project, owner_id: int | None = None, now: datetime | None = None, verify: bool = False
) -> int:
    """Write into Ceph the rights of every live key of ``project`` (of one owner) whose rights
    changed; returns how many were written. ``verify`` (the periodic drift check): also read
    each key's policy from Ceph and restore it where it differs (changed or removed by hand).
    Each key is written under its row lock, so an extension racing this one keeps both (the
    rights here, the end there). Raises the last StorageError after trying every key (the
    periodic check retries the rest)."""
    home = project.home
    if not home.rights_in_keys or not project.rgw_provisioned:
        return 0
    now = now or timezone.now()
    keys = AccessKey.objects.filter(project=project, status__in=LIVE, rgw_user__gt="")
    if owner_id is not None:
        keys = keys.filter(owner_id=owner_id)
    members = {
        m.user_id: m
        for m in Membership.objects.filter(project=project, user__in=keys.values("owner_id")).select_related("project")
    }
    facts = _facts(project.pk, now=now)
    written, failure = 0, None
    for key_id in list(keys.values_list("pk", flat=True)):
        key = None
        try:
            with transaction.atomic():
                key = key_locked(key_id)
                if key is None or key.status not in LIVE:
                    continue
                rights = key_rights(key, membership=members.get(key.owner_id), now=now, facts=facts)
                unchanged = rights_json(rights) == key.rights
                if unchanged and not (verify and homes.key_rights_drifted(home, user=key.rgw_user, rights=rights)):
                    continue
                if unchanged:
                    log.warning("key %s: its policy in Ceph differed from Latchkey's; restored", key.access_key_id)
                homes.key_rights_put(home, user=key.rgw_user, writes=key.scope_writes, rights=rights)
                AccessKey.objects.filter(pk=key.pk).update(rights=rights_json(rights))
                written += 1
        except homes.StorageError as exc:
            if exc.code == "NoSuchEntity" and key is not None and key.status == AccessKey.Status.PENDING:
                continue  # still being made: its creation writes its rights again once confirmed
            log.warning("key %s: rights not written yet (%s)", key_id, exc.code)
            failure = exc
    if failure is not None:
        raise failure
    return written


def keys_rights_sync_all(*, now: datetime | None = None) -> dict[str, int]:
    """Every active project whose keys carry their own rights, brought in line (the minute task)."""
    written = failed = 0
    for project in Project.objects.filter(status=Project.Status.ACTIVE, rgw_provisioned=True, storage_model="account"):
        try:
            written += keys_rights_sync(project=project, now=now)
        except homes.StorageError:
            failed += 1
    return {"written": written, "failed": failed}
