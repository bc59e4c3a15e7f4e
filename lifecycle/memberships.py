"""Memberships as Latchkey keeps them in step with Ceph, keys and bucket policies: provisioning
a member's subuser, role changes, ending a membership, the retries when Ceph was down, and
memberships following what an identity provider asserts."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet

from accounts.claims import claim_values
from accounts.models import User
from accounts.services import user_ensure_rgw_name
from buckets.scoped_keys import scoped_keys_follow_member
from buckets.sync import mark_dirty, member_dependent_buckets, people_statements_end, policies_before_member_change
from keys.models import AccessKey
from keys.services import LIVE, keys_revoke, keys_revoke_for_membership
from projects.entitlements import provider_trusted_for, trusted_entitlements
from projects.models import ACCESS_STALE, MANAGING, ROLE_RANK, Membership, Project, Role
from projects.services import project_provision
from storage import client as storage
from storage import homes

log = logging.getLogger(__name__)


def _lowering(current: str, wanted: str) -> bool:
    """The member is to hold less than Ceph may give them now (unknown, after a failure, counts)."""
    if current == STALE:
        return True
    levels = storage.ACCESS_LEVELS
    return current in levels and levels.index(wanted) < levels.index(current)


def membership_provision(*, membership: Membership) -> None:
    """Make the member's subuser exist with the access level of their role. Safe to repeat.

    Raising access: restricted buckets deny the member first, then the subuser gets the level,
    so the member never holds access a policy has not yet narrowed. Lowering access: the subuser
    loses it first, unconditionally, then the policies follow; if they cannot (Ceph refuses a
    policy), the caller revokes the member's keys instead of leaving the old level in place."""
    project_provision(project=membership.project)
    name = user_ensure_rgw_name(user=membership.user)
    wanted = membership.wanted_access
    if membership.rgw_access == wanted:
        return
    lowering = _lowering(membership.rgw_access, wanted)
    if not lowering:
        policies_before_member_change(project=membership.project)
    homes.member_ensure(membership.project.home, name=name, access=wanted)
    Membership.objects.filter(pk=membership.pk).update(rgw_access=wanted)
    membership.rgw_access = wanted
    if lowering:
        try:
            policies_before_member_change(project=membership.project)
        except storage.StorageError:
            # The level is applied but restricted buckets do not deny the member yet: not done.
            Membership.objects.filter(pk=membership.pk).update(rgw_access=STALE)
            membership.rgw_access = STALE
            raise


def membership_set_role(*, membership: Membership, role: Role) -> None:
    """Change a role; a provisioned subuser gets the new access level at once. A lower role
    that Ceph cannot fully apply revokes the member's keys: it never leaves them the old access."""
    if membership.role == role:
        return
    lowering = ROLE_RANK[role] < ROLE_RANK[Role(membership.role)]
    if membership.role in MANAGING and role not in MANAGING:
        people_statements_end(membership.project)
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    try:
        if lowering:
            _role_apply(membership=membership)
        else:
            if membership.rgw_access:
                membership_provision(membership=membership)
            scoped_keys_follow_member(membership=membership)
    except storage.StorageError as exc:
        # Ceph does not hold the new role yet (or a scoped key its old floor; its statements are
        # marked dirty): memberships_apply_stale applies it within a minute, and until then the
        # member's keys cannot be made or extended (keys.rules).
        Membership.objects.filter(pk=membership.pk).update(rgw_access=STALE)
        log.warning("membership %s: role change not yet applied in Ceph (%s)", membership.pk, exc)
        if lowering:
            _revoke_instead(membership)


def _revoke_instead(membership: Membership) -> None:
    try:
        revoked = keys_revoke_for_membership(membership=membership, reason="role lowered; Ceph could not apply it")
        log.warning("membership %s: %d keys revoked: the lower role could not be applied", membership.pk, revoked)
    except storage.StorageError:  # Ceph unreachable: the retry every minute lowers the level itself
        log.warning("membership %s: keys not revoked yet, Ceph unavailable", membership.pk)


READER_KEY_END = "role is read-only: only a key of its own user is"


def reader_subuser_keys_end(*, membership: Membership | None = None) -> int:
    """End the live keys on the subuser of a read-only member (of ``membership``, or everyone's).
    Ceph cannot hold such a key to reading: a subuser of any level may create buckets and change
    bucket settings, and any policy Allow covering it lifts its level (docs/scoped-keys-rgw16.md
    F1, F2). A read-only member's new keys are users of their own (lifecycle.keys); these are
    keys made before the role was lowered. Raises StorageError after ending what it could."""
    readers = Membership.objects.filter(
        user=OuterRef("owner"), project=OuterRef("project"), role=Role.READ_ONLY, status=Membership.Status.ACTIVE
    )
    keys = AccessKey.objects.filter(Exists(readers), status__in=LIVE, rgw_user="")
    if membership is not None:
        keys = keys.filter(owner=membership.user_id, project=membership.project_id)
    ended = keys_revoke(keys=list(keys.select_related("project")), reason=READER_KEY_END)
    if ended:
        log.info("%d key(s) of read-only members ended: Ceph cannot hold a subuser's key to reading", ended)
    return ended


def _role_apply(*, membership: Membership) -> None:
    """Both halves of a role in Ceph, each tried whatever the other does; a failure keeps the
    membership stale (provisioning marks it applied), so it is retried. A read-only role first
    ends the keys on the member's subuser (``reader_subuser_keys_end``)."""
    try:
        reader_subuser_keys_end(membership=membership)
        scoped_keys_follow_member(membership=membership)
    except storage.StorageError:
        if membership.rgw_access:
            membership_provision(membership=membership)
        Membership.objects.filter(pk=membership.pk).update(rgw_access=STALE)
        raise
    if membership.rgw_access:
        membership_provision(membership=membership)


def membership_end(*, membership: Membership) -> None:
    """End a membership: its keys are revoked and its subuser removed, then the row goes.

    Latchkey stops honouring the membership first (status ENDING, committed), so a Ceph
    failure part-way leaves a membership that grants nothing in the portal and is finished
    by ``memberships_finish_ending``; it never leaves a live key behind a deleted row.
    """
    Membership.objects.filter(pk=membership.pk).update(status=Membership.Status.ENDING)
    membership.status = Membership.Status.ENDING
    if membership.role in MANAGING:
        people_statements_end(membership.project)
    keys_revoke_for_membership(membership=membership, reason="membership ended")
    if membership.rgw_access and membership.user.rgw_name:
        homes.member_remove(membership.project.home, name=membership.user.rgw_name)
    mark_dirty(member_dependent_buckets(membership.project))  # drop the former member's statements
    membership.delete()


def _retry(memberships: QuerySet[Membership], step: Callable[..., None], *, still: str) -> tuple[int, int]:
    """Run ``step`` on each membership Ceph interrupted earlier; one failure does not stop the rest."""
    done = failed = 0
    for membership in memberships.select_related("project", "user"):
        try:
            step(membership=membership)
            done += 1
        except storage.StorageError:
            failed += 1
            log.warning("membership %s: %s", membership.pk, still)
    return done, failed


def memberships_finish_ending() -> dict[str, int]:
    """Retry ending memberships that Ceph interrupted. Idempotent."""
    ending = Membership.objects.filter(status=Membership.Status.ENDING)
    done, failed = _retry(ending, membership_end, still="ending still blocked by Ceph")
    return {"ended": done, "failed": failed}


STALE = ACCESS_STALE  # rgw_access of a membership whose access level Ceph has not yet taken


def memberships_apply_stale() -> dict[str, int]:
    """Apply the access levels Ceph refused earlier (a role change while it was down), so that a
    downgrade does not wait for anyone's next action. Run every minute; idempotent."""
    stale = Membership.objects.filter(status=Membership.Status.ACTIVE, rgw_access=STALE)
    done, failed = _retry(stale, _role_apply, still="access level still not applied in Ceph")
    try:
        # Also catches keys a read-only member held on their subuser from before this rule.
        readers = reader_subuser_keys_end()
    except storage.StorageError:
        readers, failed = 0, failed + 1
    return {"applied": done, "failed": failed, "reader_keys_ended": readers}


def memberships_sync_from_claims(
    *, user: User, provider_id: str, asserted: dict[str, Role], lower_only: bool = False, as_of: datetime | None = None
) -> dict[str, int]:
    """Bring the memberships that ``provider_id`` asserts for ``user`` in line with ``asserted``
    (project number → role). Memberships from other sources are left alone; project numbers
    Latchkey does not know are ignored (operators create projects), and so are projects that
    name other providers as the ones allowed to assert them. ``lower_only``: claims that may be
    stale (an access token's own, as of its issue) only end memberships and lower roles; they
    never create or raise one, which only a login or the re-check (the provider asked now) do.
    ``as_of``: when those claims were made; a membership changed since then is left alone."""
    source = f"idp:{provider_id}"
    projects = {p.number: p for p in Project.objects.filter(number__in=asserted.keys())}
    unknown = sorted(set(asserted) - set(projects))
    if unknown:
        log.info("user %s: %s asserts unknown projects %s", user.pk, provider_id, ", ".join(unknown))
    refused = sorted(n for n, p in projects.items() if not p.admits_provider(provider_id))
    if refused:  # the project names other providers: this one's word does not count (and ends what it gave)
        log.warning("user %s: %s may not assert projects %s; ignored", user.pk, provider_id, ", ".join(refused))
        projects = {n: p for n, p in projects.items() if n not in refused}
    added = changed = 0
    newer_than_claims = Membership.objects.all()
    if as_of is not None:
        newer_than_claims = newer_than_claims.filter(updated_at__lte=as_of)
    for number, project in projects.items():
        if lower_only:
            membership = newer_than_claims.filter(user=user, project=project, source=source).first()
            if membership is None or ROLE_RANK[Role(membership.role)] <= ROLE_RANK[asserted[number]]:
                continue
        else:
            with transaction.atomic():
                membership, created = Membership.objects.select_for_update().get_or_create(
                    user=user, project=project, defaults={"role": asserted[number], "source": source}
                )
            if created:
                added += 1
                continue
        if membership.status == Membership.Status.ENDING:
            continue  # still being torn down; the next login re-adds it
        if membership.source != source:
            Membership.objects.filter(pk=membership.pk).update(source=source)
        if membership.role != asserted[number]:
            membership_set_role(membership=membership, role=asserted[number])
            changed += 1
    gone = newer_than_claims.filter(user=user, source=source, status=Membership.Status.ACTIVE).exclude(
        project__number__in=projects.keys()
    )
    ended = _end_each(gone.select_related("project", "user"))
    return {"added": added, "changed": changed, "ended": ended}


def _end_each(memberships: Iterable[Membership]) -> int:
    """End each; one Ceph failure leaves that one ENDING (memberships_finish_ending completes
    it) and goes on. Returns how many."""
    ended = 0
    for membership in memberships:
        try:
            membership_end(membership=membership)
        except storage.StorageError:
            log.warning("membership %s: ending deferred, Ceph unavailable", membership.pk)
        ended += 1
    return ended


def memberships_end_all(*, user: User) -> int:
    """Every active membership of ``user`` ends, whatever its source. Returns how many."""
    active = Membership.objects.filter(user=user, status=Membership.Status.ACTIVE)
    return _end_each(active.select_related("project", "user"))


def project_set_asserting_providers(*, project: Project, providers: str) -> int:
    """Name the providers allowed to assert memberships of ``project`` ("" for any trusted one)
    and end, at once, the memberships that a provider no longer allowed gave: their keys are
    revoked now, not at that person's next login. Returns how many ended."""
    Project.objects.filter(pk=project.pk).update(asserting_providers=providers)
    project.asserting_providers = providers
    asserted = Membership.objects.filter(project=project, status=Membership.Status.ACTIVE, source__startswith="idp:")
    untrusted = [
        m
        for m in asserted.select_related("project", "user")
        if not provider_trusted_for(project, m.source.removeprefix("idp:"))
    ]
    return _end_each(untrusted)


def memberships_sync_from_idp(
    *, user: Any, provider_id: str, claims: Mapping[str, Any], lower_only: bool = False, as_of: datetime | None = None
) -> dict[str, int]:
    """Memberships from what ``provider_id`` says of ``user`` (a login's claims, the re-check's
    userinfo answer, or with ``lower_only`` an access token's own claims), counting only what
    that provider is trusted for."""
    asserted, ignored = trusted_entitlements(
        claim_values(claims, settings.LATCHKEY_ENTITLEMENT_CLAIM),
        settings.LATCHKEY_ENTITLEMENT_PATTERN,
        settings.LATCHKEY_PROVIDER_TRUST.get(provider_id),
    )
    if ignored:  # once per sync; values are the provider's text: repr() and cut, never raw
        sample = ", ".join(repr(v[:120]) for v in ignored[:5])
        log.warning(
            "user %s: %s asserted %d entitlements outside what it is trusted for, ignored: %s",
            user.pk,
            provider_id,
            len(ignored),
            sample,
        )
    summary = memberships_sync_from_claims(
        user=user, provider_id=provider_id, asserted=asserted, lower_only=lower_only, as_of=as_of
    )
    log.info("user %s: memberships from %s %s", user.pk, provider_id, summary)
    return summary


def project_suspend(*, project: Project) -> None:
    """Allocation ended: Latchkey refuses the project, its keys are revoked, and its Ceph user
    is suspended (the data stays). Latchkey's side is committed first, so a Ceph failure
    part-way leaves a project that grants nothing and can be suspended again."""
    Project.objects.filter(pk=project.pk).update(status=Project.Status.SUSPENDED)
    project.status = Project.Status.SUSPENDED
    keys_revoke(keys=list(AccessKey.objects.filter(project=project, status__in=LIVE)), reason="project suspended")
    if project.rgw_provisioned:
        homes.suspend(project.home, suspended=True)
