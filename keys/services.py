"""Writes to S3 keys: issue, extend, edit, reveal, delete, revoke. Ceph and the database agree
after every call, even when Ceph fails. Expiry, Latchkey's job because Ceph has none, is in
keys/expiry.py; ``key_expire`` and ``key_extend`` both lock the key's row (``key_locked``), so an
extension racing the expiry ends in one state: either the key expired (and the extension is
refused) or it was extended (and the stale job finds nothing to do)."""

from __future__ import annotations

import logging
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from keys.models import AccessKey, KeyEvent
from keys.scopes import MEMBER_SCOPE, KeyScope
from keys.signals import scoped_key_gone
from portal.errors import Refused
from projects.models import ACCESS_STALE, WRITING, Membership, Project
from storage import client as storage
from storage import homes
from storage.identity import KeyRights, rights_from_json, rights_json

log = logging.getLogger(__name__)

# A PENDING row older than this belongs to a request that died between our write and Ceph's.
_ID_ALPHABET = string.ascii_uppercase + string.digits
LIVE = (AccessKey.Status.ACTIVE, AccessKey.Status.PENDING)


class KeyActionError(Refused):
    """A key operation that cannot be done; the message is meant for the user."""


@dataclass(frozen=True)
class IssuedKey:
    key: AccessKey
    secret: str  # handed to the user once, never stored


def _new_access_key_id() -> str:
    # 20 characters like AWS ids; the "LK" prefix tells operators which keys Latchkey issued.
    return "LK" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(18))


def _event(key: AccessKey, action: str, *, at: datetime, actor: User | None, ip: str | None, detail: str = "") -> None:
    KeyEvent.objects.create(
        key=key, project_id=key.project_id, action=action, at=at, actor=actor, ip=ip, detail=detail[:300]
    )


def key_check_hours(project: Project, hours: int) -> None:
    limit = project.key_max_hours
    if not 1 <= hours <= limit:
        raise KeyActionError(f"The duration must be between 1 and {limit} hours.")


def key_issue(
    *,
    membership: Membership,
    hours: int,
    description: str,
    scope: KeyScope = MEMBER_SCOPE,
    prepare: Callable[[AccessKey], None] | None = None,
    rights: Callable[[AccessKey], KeyRights] | None = None,
    ip: str | None = None,
    now: datetime | None = None,
) -> IssuedKey:
    """A new key for a member whose subuser is provisioned, or (scoped) on a user of its own
    (lifecycle.keys.key_create: call that one). ``prepare`` runs once Ceph has the key and
    before it is confirmed (a scoped key's policy statements); a StorageError from it withdraws
    the key. ``rights``: what the key may do, where keys carry their own rights (Ceph writes
    them into the key's policy with it)."""
    key_check_hours(membership.project, hours)
    now = now or timezone.now()
    with transaction.atomic():
        # Serialises concurrent creations by one member, so the limit cannot be overrun; its
        # role now, not the caller's copy, sets a scoped key's floor (a downgrade may have won).
        current = membership_locked(membership.pk)
        role = current.role if current is not None else membership.role
        if not scope.scoped and role not in WRITING:
            # Lowered to read-only since the caller chose the scope: a subuser key would not be.
            raise KeyActionError("Your role in this project changed to read-only; create the key again.")
        active = AccessKey.objects.filter(owner=membership.user, project=membership.project, status__in=LIVE).count()
        if active >= settings.LATCHKEY_KEY_MAX_ACTIVE:
            raise KeyActionError(
                f"You already have {active} active keys in this project, the most allowed. "
                "Delete a key you no longer need first."
            )
        access_key_id = _new_access_key_id()
        own_user = homes.key_on_own_user(membership.project.home, scoped=scope.scoped)
        key = AccessKey.objects.create(
            access_key_id=access_key_id,
            project=membership.project,
            owner=membership.user,
            subuser="" if own_user else membership.user.rgw_name or "",
            description=description,
            scope=scope.kind,
            scope_writes=scope.writes,
            # A scoped key's own user, named after its unique random id: never reused, so a
            # statement naming an old user never applies to a new one.
            rgw_user="k" + access_key_id.lower() if own_user else "",
            status=AccessKey.Status.PENDING,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    try:
        secret = _ceph_create(key, writes=scope.writes and role in WRITING, rights=rights)
        if prepare is not None:
            prepare(key)
    except storage.StorageError:
        _discard_pending(key)
        raise
    with transaction.atomic():
        # Confirm only a key still PENDING, for a member still active: a revocation (membership
        # ended, user deactivated) may have run while Ceph was making it, and must win.
        locked = key_locked(key.pk)
        still_member = Membership.objects.filter(
            pk=membership.pk, status=Membership.Status.ACTIVE, user__is_active=True
        ).exists()
        confirmed = locked is not None and locked.status == AccessKey.Status.PENDING and still_member
        if confirmed and rights is not None and locked is not None and locked.project.home.rights_in_keys:
            # Computed again under the key's lock: a change of rules that ran while Ceph made the
            # key (and skipped it, or was overwritten by its first policy) is in its policy now.
            _rights_refresh(locked, rights(locked))
        if confirmed:
            AccessKey.objects.filter(pk=key.pk).update(status=AccessKey.Status.ACTIVE)
            key.status = AccessKey.Status.ACTIVE
            detail = f"{hours} h" if not scope.scoped else f"{hours} h, scope {scope.label}"
            _event(key, KeyEvent.Action.CREATE, at=now, actor=membership.user, ip=ip, detail=detail)
    if not confirmed:
        _withdraw(key, now=now)
        raise KeyActionError("Your access to this project ended while the key was being made; it was not issued.")
    log.info(
        "key %s created for user %s in project %s, expires %s",
        key.access_key_id,
        key.owner_id,
        membership.project.number,
        key.expires_at.isoformat(),
    )
    return IssuedKey(key=key, secret=secret)


def _ceph_create(key: AccessKey, *, writes: bool, rights: Callable[[AccessKey], KeyRights] | None) -> str:
    home = key.project.home
    granted = rights(key) if rights is not None else KeyRights(ends_at=key.expires_at, anywhere=False)
    if home.rights_in_keys:
        AccessKey.objects.filter(pk=key.pk).update(rights=rights_json(granted))
        key.rights = rights_json(granted)
    return homes.key_create(
        home, access_key=key.access_key_id, subuser=key.subuser, user=key.rgw_user, writes=writes, rights=granted
    )


def _rights_refresh(key: AccessKey, granted: KeyRights) -> None:
    if rights_json(granted) == key.rights:
        return
    homes.key_rights_put(key.project.home, user=key.rgw_user, writes=key.scope_writes, rights=granted)
    AccessKey.objects.filter(pk=key.pk).update(rights=rights_json(granted))
    key.rights = rights_json(granted)


def key_ceph_remove(key: AccessKey) -> None:
    """Remove the key from Ceph (a key of its own user: that user). Safe to repeat."""
    homes.key_remove(key.project.home, access_key=key.access_key_id, user=key.rgw_user)
    if key.rgw_user:
        _tell_gone(key)


def _tell_gone(key: AccessKey) -> None:
    """After the commit, the statements naming a scoped key's user are stale (keys/signals.py)."""
    key_id, project_id, kind, owner_id = key.pk, key.project_id, key.scope, key.owner_id
    transaction.on_commit(
        lambda: scoped_key_gone.send(
            sender=AccessKey, key_id=key_id, project_id=project_id, scope=kind, owner_id=owner_id
        )
    )


def _withdraw(key: AccessKey, *, now: datetime) -> None:
    """Take back a key Ceph made after Latchkey stopped honouring it. A PENDING one is revoked as
    usual; one already revoked (its removal ran before Ceph made it) is removed again. If Ceph
    cannot be asked, the row goes back to PENDING, so the sweep removes the key from Ceph."""
    try:
        if keys_revoke(keys=[key], reason="access ended during creation", now=now):
            return
        key_ceph_remove(key)
    except storage.StorageError:
        log.warning("key %s: made after its access ended; removal deferred to the sweep", key.access_key_id)
        AccessKey.objects.filter(pk=key.pk).update(status=AccessKey.Status.PENDING)


def _discard_pending(key: AccessKey) -> None:
    """Undo a creation that Ceph did not confirm. If Ceph cannot even be asked, the PENDING row
    stays and ``keys_sweep`` removes the key from Ceph (if it is there) and the row."""
    try:
        key_ceph_remove(key)
    except storage.StorageError:
        log.warning("key %s: creation failed and cleanup deferred", key.access_key_id)
        return
    key.delete()


# Every row lock names its own table (``of``): a join (a model's ordering, select_related) would
# otherwise lock the project's row as well. make soak found what that did: key creation (member
# row, then project row) deadlocked against a grant (bucket and project rows, then the member
# row its new grant refers to), and answered 500.


def membership_locked(membership_id: int) -> Membership | None:
    """The member's row, locked until the transaction ends (Membership's ordering joins the project)."""
    return Membership.objects.select_for_update(of=("self",)).filter(pk=membership_id).first()


def key_locked(key_id: int) -> AccessKey | None:
    """The key's row, locked until the transaction ends (see above). With the project's row too, a
    process holding it while it waits for the project's Ceph lock (storage/locks.py) deadlocked
    against the lock holder recording its key's event (tests/ceph/test_expiry_turns.py)."""
    return AccessKey.objects.select_for_update(of=("self",)).select_related("project").filter(pk=key_id).first()


def key_end_locked(
    key: AccessKey, *, status: str, action: str, reason: str, now: datetime, actor: User | None, ip: str | None
) -> None:
    """With the row locked: remove the key from Ceph, then record its end. A Ceph failure
    raises before anything is recorded, so the key stays active and is retried."""
    refused_at = None
    if settings.LATCHKEY_VERIFY_REVOCATION:
        endpoints = settings.LATCHKEY_VERIFY_REVOCATION_ENDPOINTS
        homes.key_remove_proven(key.project.home, access_key=key.access_key_id, endpoints=endpoints, user=key.rgw_user)
        if key.rgw_user:
            _tell_gone(key)
        refused_at = timezone.now()
    else:
        key_ceph_remove(key)
    AccessKey.objects.filter(pk=key.pk).update(status=status, ended_at=now, end_reason=reason, refused_at=refused_at)
    key.status, key.ended_at, key.end_reason = status, now, reason
    _event(key, action, at=now, actor=actor, ip=ip, detail=reason)
    log.info("key %s ended: %s", key.access_key_id, reason)


def key_extend(
    *, key: AccessKey, hours: int, actor: User, ip: str | None = None, now: datetime | None = None
) -> AccessKey:
    """Set the expiry to now + ``hours`` (at most the project's longest lifetime from now).
    Works any number of times, as on LUMI-O, but only on a key that has not expired."""
    now = now or timezone.now()
    key_check_hours(key.project, hours)
    return key_expiry_change(
        key=key, expires_at=now + timedelta(hours=hours), actor=actor, ip=ip, now=now, later_only=True
    )


def _owner_may_keep(key: AccessKey) -> None:
    """Refuse a later end for a key whose owner's membership ended, or whose role Ceph has not
    taken yet (a lowered role must reach Ceph before any key of it lives longer)."""
    membership = Membership.objects.filter(
        user_id=key.owner_id, project_id=key.project_id, status=Membership.Status.ACTIVE
    ).first()
    if membership is None:
        raise KeyActionError("You are no longer a member of this project; the key cannot be extended.")
    if membership.rgw_access == ACCESS_STALE:
        raise KeyActionError(
            "Your role in this project is still being applied in the storage service; extend the key in a minute."
        )


def key_expiry_change(
    *, key: AccessKey, expires_at: datetime, actor: User | None, ip: str | None, now: datetime, later_only: bool
) -> AccessKey:
    """Move an active key's end, with the row locked (so it races the expiry job cleanly) and an
    event; ``later_only``: an extension, refused unless the end moves later."""
    if later_only or expires_at > key.expires_at:
        _owner_may_keep(key)
    with transaction.atomic():
        locked = key_locked(key.pk)
        if locked is None or locked.status != AccessKey.Status.ACTIVE or locked.expires_at <= now:
            raise KeyActionError("This key has expired or was deleted; it cannot be extended. Create a new key.")
        if later_only and expires_at <= locked.expires_at:
            raise KeyActionError(
                f"The key already expires later than that ({timezone.localtime(locked.expires_at):%Y-%m-%d %H:%M %Z})."
            )
        AccessKey.objects.filter(pk=key.pk).update(
            expires_at=expires_at, last_extended_at=now, expiry_job_for=None, reminded_hours=None
        )
        home = locked.project.home
        if home.rights_in_keys and locked.rgw_user and locked.rights is not None:
            # Ceph keeps the key's end: its policy changes here, inside the transaction, so a
            # refusal leaves the old end in both places.
            homes.key_rights_put(
                home,
                user=locked.rgw_user,
                writes=locked.scope_writes,
                rights=rights_from_json(locked.rights, ends_at=expires_at),
            )
        old = locked.expires_at
        locked.expires_at, locked.last_extended_at = expires_at, now
        action = KeyEvent.Action.EXTEND if later_only else KeyEvent.Action.SET_EXPIRY
        _event(locked, action, at=now, actor=actor, ip=ip, detail=f"{old.isoformat()} -> {expires_at.isoformat()}")
    return locked


def key_edit_description(
    *, key: AccessKey, description: str, actor: User, ip: str | None = None, now: datetime | None = None
) -> None:
    if key.status != AccessKey.Status.ACTIVE:
        raise KeyActionError("This key has ended; its description can no longer change.")
    with transaction.atomic():
        AccessKey.objects.filter(pk=key.pk).update(description=description)
        _event(
            key,
            KeyEvent.Action.EDIT,
            at=now or timezone.now(),
            actor=actor,
            ip=ip,
            detail=f"{key.description} -> {description}",
        )
        key.description = description


def key_reveal_secret(*, key: AccessKey, actor: User, ip: str | None = None, now: datetime | None = None) -> str:
    """Fetch the secret from Ceph for its owner (the caller checks fresh authentication)."""
    if key.status != AccessKey.Status.ACTIVE or key.owner_id != actor.pk:
        raise KeyActionError("This key cannot be revealed.")
    secret = homes.key_secret(key.project.home, access_key=key.access_key_id, user=key.rgw_user)
    if secret is None:
        raise KeyActionError("The storage service no longer has this key. It will be marked as ended.")
    _event(key, KeyEvent.Action.REVEAL, at=now or timezone.now(), actor=actor, ip=ip)
    return secret


def key_delete(*, key: AccessKey, actor: User, ip: str | None = None, now: datetime | None = None) -> None:
    """The owner deletes a key. Irreversible; a Ceph failure leaves the key active."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = key_locked(key.pk)
        if locked is None or locked.status != AccessKey.Status.ACTIVE:
            raise KeyActionError("This key has already ended.")
        key_end_locked(
            locked,
            status=AccessKey.Status.REVOKED,
            action=KeyEvent.Action.DELETE,
            reason="deleted by owner",
            now=now,
            actor=actor,
            ip=ip,
        )
    key.status = locked.status


def keys_revoke(*, keys: list[AccessKey], reason: str, now: datetime | None = None) -> int:
    """Revoke keys at once (membership ended, user deactivated, project suspended).
    Raises StorageError after revoking what it could; the caller retries the rest."""
    now = now or timezone.now()
    revoked, failure = 0, None
    for key in keys:
        try:
            with transaction.atomic():
                locked = key_locked(key.pk)
                if locked is None or locked.status not in LIVE:
                    continue
                key_end_locked(
                    locked,
                    status=AccessKey.Status.REVOKED,
                    action=KeyEvent.Action.REVOKE,
                    reason=reason,
                    now=now,
                    actor=None,
                    ip=None,
                )
                revoked += 1
        except storage.StorageError as exc:
            failure = exc
    if failure is not None:
        raise failure
    return revoked


def keys_revoke_for_membership(*, membership: Membership, reason: str, now: datetime | None = None) -> int:
    keys = AccessKey.objects.filter(owner=membership.user, project=membership.project, status__in=LIVE)
    return keys_revoke(keys=list(keys), reason=reason, now=now)
