"""Memberships as Latchkey keeps them in step with Ceph, keys and bucket policies: provisioning
a member's subuser, role changes, ending a membership, the retries when Ceph was down, and
memberships following what an identity provider asserts."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from accounts.claims import claim_values
from accounts.models import User
from accounts.services import user_ensure_rgw_name
from buckets.scoped_keys import scoped_keys_follow_member
from buckets.sync import mark_dirty, member_dependent_buckets, policies_before_member_change
from keys.models import AccessKey
from keys.services import LIVE, keys_revoke, keys_revoke_for_membership
from projects.entitlements import provider_trusted_for, trusted_entitlements
from projects.models import Membership, Project, Role
from projects.services import project_provision
from storage import client as storage

log = logging.getLogger(__name__)


def membership_provision(*, membership: Membership) -> None:
    """Make the member's subuser exist with the access level of their role. Safe to repeat."""
    project_provision(project=membership.project)
    name = user_ensure_rgw_name(user=membership.user)
    wanted = membership.wanted_access
    if membership.rgw_access == wanted:
        return
    # Restricted buckets must deny this member before the member holds the new access level.
    policies_before_member_change(project=membership.project)
    storage.subuser_ensure(tenant=membership.project.tenant, name=name, access=wanted)
    Membership.objects.filter(pk=membership.pk).update(rgw_access=wanted)
    membership.rgw_access = wanted


def membership_set_role(*, membership: Membership, role: Role) -> None:
    """Change a role; a provisioned subuser gets the new access level at once."""
    if membership.role == role:
        return
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    try:
        if membership.rgw_access:
            membership_provision(membership=membership)
        scoped_keys_follow_member(membership=membership)
    except storage.StorageError:
        # Ceph still has the old level (or a scoped key its old floor; its statements are marked
        # dirty): memberships_apply_stale applies the role within a minute.
        Membership.objects.filter(pk=membership.pk).update(rgw_access=STALE)
        log.warning("membership %s: role change not yet applied in Ceph", membership.pk)


def _role_apply(*, membership: Membership) -> None:
    """Both halves of a role in Ceph, each tried whatever the other does; a failure keeps the
    membership stale (provisioning marks it applied), so it is retried."""
    try:
        scoped_keys_follow_member(membership=membership)
    except storage.StorageError:
        membership_provision(membership=membership)
        Membership.objects.filter(pk=membership.pk).update(rgw_access=STALE)
        raise
    membership_provision(membership=membership)


def membership_end(*, membership: Membership) -> None:
    """End a membership: its keys are revoked and its subuser removed, then the row goes.

    Latchkey stops honouring the membership first (status ENDING, committed), so a Ceph
    failure part-way leaves a membership that grants nothing in the portal and is finished
    by ``memberships_finish_ending``; it never leaves a live key behind a deleted row.
    """
    Membership.objects.filter(pk=membership.pk).update(status=Membership.Status.ENDING)
    membership.status = Membership.Status.ENDING
    keys_revoke_for_membership(membership=membership, reason="membership ended")
    if membership.rgw_access and membership.user.rgw_name:
        storage.subuser_remove(tenant=membership.project.tenant, name=membership.user.rgw_name)
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


STALE = "stale"  # rgw_access of a membership whose access level Ceph has not yet taken


def memberships_apply_stale() -> dict[str, int]:
    """Apply the access levels Ceph refused earlier (a role change while it was down), so that a
    downgrade does not wait for anyone's next action. Run every minute; idempotent."""
    stale = Membership.objects.filter(status=Membership.Status.ACTIVE, rgw_access=STALE)
    done, failed = _retry(stale, _role_apply, still="access level still not applied in Ceph")
    return {"applied": done, "failed": failed}


def memberships_sync_from_claims(*, user: User, provider_id: str, asserted: dict[str, Role]) -> dict[str, int]:
    """Bring the memberships that ``provider_id`` asserts for ``user`` in line with ``asserted``
    (project number → role). Memberships from other sources are left alone; project numbers
    Latchkey does not know are ignored (operators create projects), and so are projects that
    name other providers as the ones allowed to assert them."""
    source = f"idp:{provider_id}"
    projects = {p.number: p for p in Project.objects.filter(number__in=asserted.keys())}
    unknown = sorted(set(asserted) - set(projects))
    if unknown:
        log.info("user %s: %s asserts unknown projects %s", user.pk, provider_id, ", ".join(unknown))
    refused = sorted(n for n, p in projects.items() if not p.admits_provider(provider_id))
    if refused:  # the project names other providers: this one's word does not count (and ends what it gave)
        log.warning("user %s: %s may not assert projects %s; ignored", user.pk, provider_id, ", ".join(refused))
        projects = {n: p for n, p in projects.items() if n not in refused}
    added = changed = ended = 0
    for number, project in projects.items():
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
    gone = Membership.objects.filter(user=user, source=source, status=Membership.Status.ACTIVE).exclude(
        project__number__in=projects.keys()
    )
    for membership in gone.select_related("project", "user"):
        try:
            membership_end(membership=membership)
        except storage.StorageError:
            log.warning("membership %s: ending deferred, Ceph unavailable", membership.pk)
        ended += 1
    return {"added": added, "changed": changed, "ended": ended}


def project_set_asserting_providers(*, project: Project, providers: str) -> int:
    """Name the providers allowed to assert memberships of ``project`` ("" for any trusted one)
    and end, at once, the memberships that a provider no longer allowed gave: their keys are
    revoked now, not at that person's next login. Returns how many ended."""
    Project.objects.filter(pk=project.pk).update(asserting_providers=providers)
    project.asserting_providers = providers
    ended = 0
    asserted = Membership.objects.filter(project=project, status=Membership.Status.ACTIVE, source__startswith="idp:")
    for membership in asserted.select_related("project", "user"):
        if provider_trusted_for(project, membership.source.removeprefix("idp:")):
            continue
        try:
            membership_end(membership=membership)
        except storage.StorageError:  # already ENDING: memberships_finish_ending completes it
            log.warning("membership %s: ending deferred, Ceph unavailable", membership.pk)
        ended += 1
    return ended


def memberships_sync_from_idp(*, user: Any, provider_id: str, claims: Mapping[str, Any]) -> dict[str, int]:
    """Memberships from what ``provider_id`` says of ``user`` now (a login's claims, or the
    userinfo answer behind an API token), counting only what that provider is trusted for."""
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
    summary = memberships_sync_from_claims(user=user, provider_id=provider_id, asserted=asserted)
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
        storage.project_user_suspend(tenant=project.tenant, suspended=True)
