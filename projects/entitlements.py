"""Project memberships asserted by an identity provider's entitlement claim.

The default pattern reads AARC-G002 group entitlements, as MyAccessID and most research
federations issue them, e.g.
``urn:geant:myaccessid.org:group:latchkey:project_462000008:role=member#aai.myaccessid.org``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.conf import settings

from portal.oidc_config import ProviderTrust
from projects.models import ROLE_RANK, Project, Role

MAX_VALUE_LENGTH = 1024  # longer values are nobody's entitlement; not worth a regex
MAX_VALUES = 2000  # a claim with more is cut here (the rest ignored and counted)


def parse_entitlements(values: Iterable[str], pattern: str) -> dict[str, Role]:
    """Map project number → role. Without a role the member role is meant; with several
    entitlements for one project the most privileged role wins; unknown roles are ignored."""
    regex = re.compile(pattern)
    result: dict[str, Role] = {}
    for value in values:
        match = regex.match(value.strip())
        if not match:
            continue
        raw_role = match.groupdict().get("role") or Role.MEMBER.value
        try:
            role = Role(raw_role)
        except ValueError:
            continue
        number = match.group("project")
        if number not in result or ROLE_RANK[role] > ROLE_RANK[result[number]]:
            result[number] = role
    return result


def _directly_below(value: str, prefixes: tuple[str, ...]) -> bool:
    """The project's group sits right under a trusted prefix (``…:latchkey:project_N``), not
    in some subgroup further down (``…:latchkey:anyones-subgroup:project_N``), which whoever
    may make subgroups there would control."""
    return any(value.startswith(p) and value[len(p) :].startswith("project_") for p in prefixes)


def trusted_entitlements(
    values: list[str], pattern: str, trust: ProviderTrust | None
) -> tuple[dict[str, Role], list[str]]:
    """What one provider's claim asserts, counting only values in that provider's namespaces
    (exact, case-sensitive prefixes: a look-alike or upper-cased namespace is another one; the
    project's group directly under one) and projects. Returns (project number → role, the
    values ignored for being outside them)."""
    prefixes = trust.entitlement_prefixes if trust else ()
    inside: list[str] = []
    ignored: list[str] = []
    for value in values[:MAX_VALUES]:
        value = value.strip()
        if len(value) <= MAX_VALUE_LENGTH and prefixes and _directly_below(value, prefixes):
            inside.append(value)
        elif value:
            ignored.append(value)
    ignored.extend(values[MAX_VALUES:])
    asserted = parse_entitlements(inside, pattern)
    for number in [n for n in asserted if trust is None or not trust.admits_project(n)]:
        del asserted[number]
        ignored.append(f"project {number} (not among the provider's projects)")
    return asserted, ignored


def provider_trusted_for(project: Project, provider_id: str) -> bool:
    """Whether ``provider_id``'s word counts for ``project``: the provider has namespaces, its
    projects admit this one, and the project does not name other providers."""
    trust = settings.LATCHKEY_PROVIDER_TRUST.get(provider_id)
    return bool(
        trust
        and trust.entitlement_prefixes
        and trust.admits_project(project.number)
        and project.admits_provider(provider_id)
    )
