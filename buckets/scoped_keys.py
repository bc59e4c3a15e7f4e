"""Scoped keys against the project's buckets: whether a scope may be granted at all, the
statements a new key needs before it is handed out, and keeping keys as narrow as their owner
when the owner's role changes. How a scope maps onto Ceph: buckets/policy.py and
docs/scoped-keys-rgw16.md."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from buckets.key_rights import keys_rights_sync
from buckets.models import Bucket, KeyBucket
from buckets.policy import LEVELS
from buckets.reach import live_grants, owner_sources
from buckets.sync import bucket_locked, bucket_policy_sync, granting_buckets, mark_dirty, rights_in_keys
from keys.models import AccessKey
from keys.scopes import KeyScope, ScopeError
from keys.services import LIVE
from projects.models import WRITING, Membership
from storage import client as storage

log = logging.getLogger(__name__)


def member_level(bucket: Bucket, membership: Membership) -> str:
    """The most a member may do in ``bucket`` now, from somewhere: "none", "read", "readwrite"."""
    sources = owner_sources(bucket, membership, live_grants(bucket, now=timezone.now()))
    return max((s.level for s in sources), key=LEVELS.__getitem__, default="none")


def scope_check(*, membership: Membership, scope: KeyScope) -> None:
    """Refuse (ScopeError, naming the field) a scope beyond the member's own access."""
    if scope.kind == AccessKey.Scope.BUCKETS:
        names = [name for name, _ in scope.buckets]
        found = {b.name: b for b in Bucket.objects.filter(project=membership.project, name__in=names)}
        for name, access in scope.buckets:
            bucket = found.get(name)
            if bucket is None:
                raise ScopeError(f"Project {membership.project.number} has no bucket {name!r}.")
            level = member_level(bucket, membership)
            if level == "none":
                raise ScopeError(f"You have no access to bucket {name!r}.")
            if LEVELS[access] > LEVELS[level]:
                raise ScopeError(f"You may only read bucket {name!r}, so a key cannot write to it.")


def _buckets_of(key: AccessKey) -> list[Bucket]:
    """The buckets whose policies name the key. On the tenant model a read-only key reads every
    bucket of its project and those other projects grant to it or its owner, and a scoped key
    its own. In an RGW account only other projects' grants to its owner name a key (one that
    may reach beyond its project: a member's or a read-only key)."""
    if key.project.home.rights_in_keys:
        if key.scope == AccessKey.Scope.BUCKETS:
            return []
        return list(granting_buckets(project_id=key.project_id, owner_id=key.owner_id))
    if key.scope == AccessKey.Scope.READ_ONLY:
        own = list(Bucket.objects.filter(project=key.project_id))
        return own + list(granting_buckets(project_id=key.project_id, owner_id=key.owner_id))
    return list(Bucket.objects.filter(scoped_keys__key=key))


def _sync_each(buckets: list[Bucket], *, tolerate: bool = False) -> None:
    """Write each bucket's policy. A failure marks what is left dirty and raises; with
    ``tolerate``, a bucket Ceph refuses (gone, a broken foreign policy) is only marked dirty and
    the rest are written, while an unreachable Ceph still raises."""
    for n, bucket in enumerate(buckets):
        try:
            with transaction.atomic():
                # Naming or dropping a key changes no key's rights: the bucket's project's keys are
                # not rewritten (nor locked) for it.
                bucket_policy_sync(bucket_locked(bucket.pk), rights=False)
        except Bucket.DoesNotExist:
            continue
        except storage.StorageError as exc:
            if tolerate and not isinstance(exc, storage.StorageUnavailable):
                mark_dirty(Bucket.objects.filter(pk=bucket.pk))
                log.warning("bucket %s: policy not written (%s); the periodic check retries", bucket, exc.code)
                continue
            mark_dirty(Bucket.objects.filter(pk__in=[b.pk for b in buckets[n:]]))
            raise


def key_prepare(key: AccessKey, scope: KeyScope) -> None:
    """Before a new key is handed out: its buckets recorded and the policies naming it written,
    so the key works the moment its owner has it. Raises StorageError: the buckets not yet
    written are marked dirty here, and withdrawing the key (its removal's signal) marks the
    rest. A key that reads or reaches other projects' buckets does not wait for one Ceph
    refuses: that one stays out of its reach until the periodic check writes it."""
    if scope.kind == AccessKey.Scope.BUCKETS:
        buckets = {b.name: b for b in Bucket.objects.filter(project=key.project_id)}
        KeyBucket.objects.bulk_create(
            [
                KeyBucket(key=key, bucket=buckets[name], access=access)
                for name, access in scope.buckets
                if name in buckets
            ]
        )
    tolerate = scope.kind != AccessKey.Scope.BUCKETS or key.project.home.rights_in_keys
    _sync_each(_buckets_of(key), tolerate=tolerate)


def scoped_keys_follow_member(*, membership: Membership) -> int:
    """After a role change: the statements naming the member's live scoped keys are marked and
    rewritten from the new role, and each key gets its floor in Ceph (read only unless both the
    scope and the role write). Every key is tried; returns how many; raises the last
    StorageError (what failed stays dirty, the role stays stale and is retried)."""
    if membership.project.home.rights_in_keys:
        return keys_rights_sync(project=membership.project, owner_id=membership.user_id)
    keys = list(
        AccessKey.objects.filter(
            project=membership.project, owner=membership.user, status__in=LIVE, rgw_user__gt=""
        ).select_related("project")
    )
    buckets: dict[int, Bucket] = {}
    for key in keys:
        buckets.update((b.pk, b) for b in _buckets_of(key))
    mark_dirty(Bucket.objects.filter(pk__in=list(buckets)))  # first: a failure below leaves them dirty
    failure: storage.StorageError | None = None
    try:
        _sync_each(list(buckets.values()))
    except storage.StorageError as exc:
        failure = exc
    for key in keys:
        writes = key.scope_writes and membership.role in WRITING
        try:
            storage.scoped_user_writes(tenant=key.project.tenant, user=key.rgw_user, writes=writes)
        except storage.StorageError as exc:
            failure = exc
    if failure is not None:
        raise failure
    return len(keys)


def scoped_key_gone(*, key_id: int, project_id: int, scope: str, owner_id: int) -> set[int]:
    """A key of its own user ended: the buckets whose policy named it are marked for rewriting
    (the caller queues the sync for each project it returns). Returns their projects' ids."""
    projects: set[int] = set()
    if not rights_in_keys(project_id):  # there, no policy of its own project names a key
        buckets = Bucket.objects.filter(project_id=project_id)
        named = KeyBucket.objects.filter(key_id=key_id)
        if scope != AccessKey.Scope.READ_ONLY and named.exists():
            buckets = buckets.filter(pk__in=named.values("bucket_id"))
        mark_dirty(buckets)
        projects.add(project_id)
    if scope != AccessKey.Scope.BUCKETS:
        others = granting_buckets(project_id=project_id, owner_id=owner_id)
        mark_dirty(others)
        projects.update(others.values_list("project_id", flat=True))
    return projects
