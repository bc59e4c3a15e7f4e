"""The key use cases the pages and the API share: issuing a key (the member's subuser first,
with bucket policies that deny them where they must, then the key) and showing a secret again
(rate limit, the site's reveal policy, a fresh login). Both adapters call these and only map
the outcome to their own answer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.conf import settings

from buckets.key_rights import key_rights
from buckets.scoped_keys import key_prepare, scope_check
from keys.models import AccessKey
from keys.scopes import MEMBER_SCOPE, READ_ONLY_SCOPE, KeyScope
from keys.services import IssuedKey, key_check_hours, key_issue, key_reveal_secret
from lifecycle.memberships import membership_provision
from portal import ratelimit
from portal.errors import Refused
from projects.models import WRITING, Membership, Role
from projects.services import project_provision
from storage.identity import KeyRights


class RevealNotOffered(Refused):
    def __init__(self) -> None:
        super().__init__("This site shows a secret only once, when the key is created.")


class FreshLoginNeeded(Exception):
    """Not a refusal but a step first: each adapter sends the person to log in again its own way
    (the page to the IdP, the API's caller to `latchkey login`)."""


def scope_for_role(scope: KeyScope, role: Role) -> KeyScope:
    """A read-only member's key is read-only in Ceph: a key of its own user with op-mask "read"
    and no buckets of its own, reaching only what bucket policies allow it to read. A key on
    the member's subuser could not be: radosgw lets a subuser of any level create buckets and
    change bucket settings, and any policy Allow covering it lifts its level to write
    (docs/scoped-keys-rgw16.md F1, F2; measured alike on 16, 18 and 20)."""
    if scope.kind == AccessKey.Scope.MEMBER and role not in WRITING:
        return READ_ONLY_SCOPE
    return scope


def key_create(
    *,
    membership: Membership,
    hours: int,
    description: str,
    scope: KeyScope = MEMBER_SCOPE,
    ip: str | None = None,
    now: datetime | None = None,
) -> IssuedKey:
    key_check_hours(membership.project, hours)  # before anything reaches Ceph
    scope = scope_for_role(scope, Role(membership.role))
    scope_check(membership=membership, scope=scope)
    project_provision(project=membership.project)
    rights: Callable[[AccessKey], KeyRights] | None = None
    if membership.project.home.rights_in_keys:
        # The key carries its rights (and its end) in its own policy, written with it.
        def rights(key: AccessKey) -> KeyRights:
            # The membership as it stands now (its role may have changed since the caller read it).
            current = Membership.objects.filter(pk=membership.pk).select_related("project").first()
            return key_rights(key, membership=current, scope=scope)

    if not scope.scoped:
        membership_provision(membership=membership)
    # A scoped key needs no subuser: it is a user of its own, granted by bucket policies or by
    # its own policy. Any key of its own user may be named in other projects' grants.
    return key_issue(
        membership=membership,
        hours=hours,
        description=description,
        scope=scope,
        prepare=lambda key: key_prepare(key, scope),
        rights=rights,
        ip=ip,
        now=now,
    )


def key_request(
    *, membership: Membership, hours: int, description: str, scope: KeyScope = MEMBER_SCOPE, ip: str | None = None
) -> IssuedKey:
    """A person asks for a key: within the rate limit (ratelimit.RateLimited otherwise)."""
    ratelimit.check("key_create", membership.user_id)
    return key_create(membership=membership, hours=hours, description=description, scope=scope, ip=ip)


def key_reveal(*, membership: Membership, key: AccessKey, fresh: bool, ip: str | None = None) -> str:
    """The secret again, for its owner: within the rate limit, if the site offers it, after a
    fresh login (``fresh``: the adapter's reading of the one freshness rule)."""
    ratelimit.check("reveal", membership.user_id)
    if settings.LATCHKEY_REVEAL_POLICY != "reauth":
        raise RevealNotOffered()
    if not fresh:
        raise FreshLoginNeeded()
    return key_reveal_secret(key=key, actor=membership.user, ip=ip)
