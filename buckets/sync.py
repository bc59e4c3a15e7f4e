"""Keeping each bucket's policy in Ceph equal to what Latchkey's database says.

The database is the source of truth for Latchkey's statements. A change that touches one
bucket writes its policy in the same transaction (a Ceph refusal rolls the change back); a
change that touches many (a group edit) marks the buckets ``policy_dirty`` and a task writes
them, showing progress meanwhile; the periodic check restores any drift, for example a
statement removed by hand.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from celery import signature
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from buckets import policy
from buckets.key_rights import keys_rights_sync
from buckets.models import Bucket, Grant, KeyBucket
from buckets.reach import live_condition, owner_sources
from keys.models import AccessKey
from keys.services import LIVE
from projects.models import MANAGING, ROLE_RANK, Membership, Project, Role
from storage import client as storage
from storage import homes

log = logging.getLogger(__name__)
SYNC_TASK = "buckets.tasks.policies_sync_dirty_task"  # sent by name: the task module imports this one


def rules_for(bucket: Bucket, *, now: datetime) -> policy.BucketRules:
    """What the database says about ``bucket``, in the shape ``policy`` computes from."""
    project = bucket.project
    rules = policy.BucketRules(tenant=project.tenant, bucket=bucket.name, members_access=bucket.members_access)
    grants = list(
        Grant.objects.filter(live_condition(now), bucket=bucket)
        .select_related("member__user", "grantee_project")
        .prefetch_related("group__members__user")
    )
    home = project.home
    if bucket.members_access != Bucket.MembersAccess.READWRITE and not home.rights_in_keys:
        # A membership being ended keeps its subuser and keys until Ceph has removed them: it
        # stays denied here (no privilege, no grant) until then, whatever its role was.
        memberships = Membership.objects.filter(
            project=project, status__in=(Membership.Status.ACTIVE, Membership.Status.ENDING)
        ).select_related("user")
        ending = set()
        for m in memberships:
            if m.user.rgw_name:
                active = m.status == Membership.Status.ACTIVE
                if not active:
                    ending.add(m.user.rgw_name)
                rules.members.append(
                    policy.Member(
                        subuser=m.user.rgw_name,
                        privileged=active and m.role in MANAGING,
                        role_writes=ROLE_RANK[Role(m.role)] > 0,
                    )
                )
        for grant in grants:
            source = policy.MemberSource(level=grant.access, cidrs=tuple(grant.cidrs), expires_at=grant.expires_at)
            if grant.kind == Grant.Kind.MEMBER and grant.member is not None:
                targets = [grant.member]
            elif grant.kind == Grant.Kind.GROUP and grant.group is not None:
                targets = list(grant.group.members.all())
            else:
                continue
            for target in targets:
                if target.user.rgw_name and target.user.rgw_name not in ending:
                    rules.sources.setdefault(target.user.rgw_name, []).append(source)
    for grant in grants:
        if grant.kind in (Grant.Kind.MEMBER, Grant.Kind.GROUP) or (
            grant.kind != Grant.Kind.PUBLIC and grant.grantee_project is None
        ):
            continue
        principal: str | tuple[str, ...] | None
        if grant.kind == Grant.Kind.PUBLIC:
            principal = None
        elif grant.kind == Grant.Kind.PROJECT:
            principal = homes.principal_project(grant.grantee_project.home)  # type: ignore[union-attr]
        elif grant.grantee_project.home.rights_in_keys:  # type: ignore[union-attr]
            principal = _grantee_keys(grant)  # the one user has no subuser: each of their keys is a user
        else:
            principal = policy.principal_subuser(grant.grantee_project.tenant, grant.grantee_subuser)  # type: ignore[union-attr]
        rules.outside.append(
            policy.Outside(
                grant_id=grant.pk,
                principal=principal,
                level=grant.access,
                cidrs=tuple(grant.cidrs),
                expires_at=grant.expires_at,
                read_keys=_grantee_keys(grant, read_only=True),
            )
        )
    if not home.rights_in_keys:  # there, each key's own policy holds its buckets
        rules.keys = _scoped_keys(bucket, grants)
    return rules


def _grantee_keys(grant: Grant, *, read_only: bool = False) -> tuple[str, ...]:
    """The live keys of their own users that a grant to another project (or one of its users)
    must name, because its principal does not cover them; only those of active members (of the
    one user).

    - ``read_only`` (the tenant model): the grantee's read-only keys, named for reading. A
      read-only member's keys are all of this kind (lifecycle.keys.scope_for_role). An account's
      read-only keys are held to reading by their own policies and covered by its root.
    - Otherwise (a grant to one user of a project in an RGW account): every key of theirs that
      may reach beyond its project (a member's or a read-only key; a key scoped to buckets
      reaches only its own project's), each held to its own policy as well."""
    other = grant.grantee_project
    if grant.kind == Grant.Kind.PUBLIC or other is None:
        return ()
    if read_only == other.home.rights_in_keys:  # read-only keys in an account; one tenant user's subuser
        return ()
    reaching = [AccessKey.Scope.READ_ONLY] if read_only else [AccessKey.Scope.READ_ONLY, AccessKey.Scope.MEMBER]
    keys = AccessKey.objects.filter(project=other, status__in=LIVE, scope__in=reaching, rgw_user__gt="").filter(
        owner__in=Membership.objects.filter(project=other, status=Membership.Status.ACTIVE).values("user_id")
    )
    if grant.kind == Grant.Kind.PROJECT_USER:
        keys = keys.filter(owner_id=grant.grantee_user_id)
    elif not read_only:
        return ()  # a whole project in an account is named by its root
    return tuple(
        homes.principal_key(other.home, user) for user in keys.order_by("rgw_user").values_list("rgw_user", flat=True)
    )


def rights_in_keys(project_id: int) -> bool:
    """Whether the project's keys carry their own rights (storage.homes.Home.rights_in_keys)."""
    project = Project.objects.filter(pk=project_id).first()
    return project is not None and project.home.rights_in_keys


def granting_buckets(*, project_id: int, owner_id: int) -> Any:
    """Other projects' buckets whose policies name keys of ``owner_id`` in ``project_id``
    (``_grantee_keys``): on the tenant model, grants to the project or to them reach their
    read-only keys; in an RGW account, only a grant to them names their keys."""
    one_user = Q(grants__kind=Grant.Kind.PROJECT_USER, grants__grantee_user=owner_id)
    reach = one_user if rights_in_keys(project_id) else Q(grants__kind=Grant.Kind.PROJECT) | one_user
    return Bucket.objects.filter(reach, grants__grantee_project=project_id).exclude(project=project_id).distinct()


def _scoped_keys(bucket: Bucket, grants: list[Grant]) -> list[policy.ScopedKey]:
    """The live scoped keys that may reach ``bucket``, each with its owner's reasons to."""
    levels = {
        key_id: level
        for key_id, level in KeyBucket.objects.filter(bucket=bucket, key__status__in=LIVE).values_list(
            "key_id", "access"
        )
    }
    keys = list(
        AccessKey.objects.filter(project=bucket.project_id, status__in=LIVE, rgw_user__gt="")
        .filter(Q(scope=AccessKey.Scope.READ_ONLY) | Q(pk__in=list(levels)))
        .values_list("pk", "rgw_user", "owner_id")
    )
    if not keys:
        return []
    owners = {
        m.user_id: m
        for m in Membership.objects.filter(
            project=bucket.project_id, user__in={owner for _, _, owner in keys}, status=Membership.Status.ACTIVE
        )
    }
    found = []
    for key_id, user, owner in keys:
        membership = owners.get(owner)
        sources = () if membership is None else owner_sources(bucket, membership, grants)
        found.append(policy.ScopedKey(user=user, level=levels.get(key_id, "read"), sources=sources))
    return found


def desired_policy(bucket: Bucket, current: dict[str, Any] | None, *, now: datetime) -> dict[str, Any] | None:
    rules = rules_for(bucket, now=now)
    home = bucket.project.home
    ours = [*policy.latchkey_statements(rules), *policy.every_bucket(rules, members=not home.rights_in_keys)]
    return policy.merged_policy(current, ours, tenant=_owner(home), keep_people=not bucket.drop_people_statements)


def _owner(home: homes.Home) -> str:
    """Whom people's statements must not reach past their scope (policy.reach_problem): the
    tenant, or the account whose keys a bucket policy Allow would widen."""
    return home.account if home.rights_in_keys else home.tenant


def bucket_policy_sync(bucket: Bucket, *, now: datetime | None = None, rights: bool = True) -> bool:
    """Write the bucket's policy if Ceph's differs from the database's; True if it was written.
    People's own statements are read from Ceph first and kept. Where keys carry their own
    rights, the project's keys whose rights changed are written too (``rights``; a caller
    syncing many buckets does that once). Raises StorageError."""
    now = now or timezone.now()
    home = bucket.project.home
    current = homes.bucket_policy_get(home, name=bucket.name)
    wanted = desired_policy(bucket, current, now=now)
    changed = wanted != current
    keep_people = not bucket.drop_people_statements
    refused = policy.refused_statements(current, _owner(home), keep_people=keep_people) if changed else []
    if changed:
        if current is None:
            # The bucket's first policy: whatever ACL it was made with over S3 (public-read, say)
            # goes before the policy that forbids changing ACLs takes over.
            homes.bucket_acl_private(home, name=bucket.name)
        homes.bucket_policy_put(home, name=bucket.name, policy=wanted)
        log.info("bucket %s: policy written (%d statements)", bucket, len((wanted or {}).get("Statement", [])))
    fields: dict[str, Any] = {"policy_dirty": False, "policy_synced_at": now, "drop_people_statements": False}
    if refused:
        # Gone from Ceph with this write: the record is what tells the managers (bucket page).
        log.warning("bucket %s: left out %d statement(s) people wrote (listed on its page)", bucket, len(refused))
        fields["policy_left_out"] = [{**r, "at": now.isoformat()} for r in refused]
    Bucket.objects.filter(pk=bucket.pk).update(**fields)
    for name, value in fields.items():
        setattr(bucket, name, value)
    if rights:
        keys_rights_sync(project=bucket.project, now=now)
    return changed


def bucket_locked(bucket_id: int) -> Bucket:
    """The bucket row, locked until the transaction ends: one policy writer per bucket. Only that
    row (``of``), not the project's it joins (see keys.services.membership_locked)."""
    return Bucket.objects.select_for_update(of=("self",)).select_related("project").get(pk=bucket_id)


def buckets_sync(buckets: list[Bucket] | Any, *, now: datetime | None = None, verify: bool = False) -> dict[str, int]:
    """Sync each bucket in its own transaction; a failure leaves that one dirty and goes on."""
    written = unchanged = failed = 0
    projects: set[int] = set()
    for bucket_id in [b.pk for b in buckets]:
        try:
            with transaction.atomic():
                locked = bucket_locked(bucket_id)
                projects.add(locked.project_id)
                if bucket_policy_sync(locked, now=now, rights=False):
                    written += 1
                else:
                    unchanged += 1
        except Bucket.DoesNotExist:
            continue
        except storage.StorageError:
            Bucket.objects.filter(pk=bucket_id).update(policy_dirty=True)
            failed += 1
    for project in Project.objects.filter(pk__in=projects):
        try:
            keys_rights_sync(project=project, now=now, verify=verify)
        except storage.StorageError:
            failed += 1
    return {"written": written, "unchanged": unchanged, "failed": failed}


def policies_sync_dirty(*, project: Project | None = None, now: datetime | None = None) -> dict[str, int]:
    buckets = Bucket.objects.filter(policy_dirty=True, project__rgw_provisioned=True)
    if project is not None:
        buckets = buckets.filter(project=project)
    return buckets_sync(list(buckets.only("pk")), now=now)


def policies_check(*, now: datetime | None = None) -> dict[str, int]:
    """The drift check: every bucket of every active project, restored where Ceph differs."""
    buckets = Bucket.objects.filter(project__status=Project.Status.ACTIVE, project__rgw_provisioned=True)
    result = buckets_sync(list(buckets.only("pk")), now=now, verify=True)
    # Keys of projects in accounts hold their rights themselves: checked even without a bucket.
    bucketless = Project.objects.filter(
        status=Project.Status.ACTIVE, rgw_provisioned=True, storage_model=homes.ACCOUNT, buckets__isnull=True
    )
    for project in bucketless:
        try:
            result["written"] += keys_rights_sync(project=project, now=now, verify=True)
        except storage.StorageError:
            result["failed"] += 1
    if result["written"]:
        log.warning("bucket policies: %d restored after drift", result["written"])
    return result


def member_dependent_buckets(project: Project) -> Any:
    """Buckets whose policy names individual members: only those that narrow members' access.
    (Statements of scoped keys follow their owner through buckets/scoped_keys.py.)"""
    return Bucket.objects.filter(project=project).exclude(members_access=Bucket.MembersAccess.READWRITE)


def policies_before_member_change(*, project: Project) -> None:
    """Called before a member's subuser is created or its access level changes, so a member
    never holds access that a restricted bucket's policy has not yet narrowed. Raises
    StorageError, which stops the member change. Where keys carry their own rights no bucket
    policy names a member: their keys follow them (buckets/key_rights.py)."""
    if project.home.rights_in_keys:
        return
    for bucket in member_dependent_buckets(project):
        with transaction.atomic():
            bucket_policy_sync(bucket_locked(bucket.pk))


def policies_sync_soon(project: Project) -> None:
    """After the commit, a task writes the project's dirty buckets; if the broker is down, the
    periodic check does."""

    def send() -> None:
        try:
            signature(SYNC_TASK, args=[project.pk]).delay()
        except Exception:
            log.warning("project %s: policy sync not queued; the periodic check will do it", project.number)

    transaction.on_commit(send)


def people_statements_end(project: Project) -> int:
    """Someone stopped managing ``project``: the statements people wrote into its buckets'
    policies may be theirs, so they go at the next write and are listed for the managers who
    remain (who write again what they still want)."""
    return Bucket.objects.filter(project=project).update(drop_people_statements=True, policy_dirty=True)


def mark_dirty(buckets: Any) -> int:
    """Mark buckets (a queryset, joins allowed) for rewriting; returns how many."""
    ids = set(buckets.values_list("pk", flat=True))
    return int(Bucket.objects.filter(pk__in=ids).update(policy_dirty=True))
