from __future__ import annotations

from django.conf import settings

from accounts.claims import claim_values, merged_claims
from portal.oidc_config import ProviderTrust
from projects.entitlements import MAX_VALUES, parse_entitlements, trusted_entitlements
from projects.models import Role

PATTERN = settings.LATCHKEY_ENTITLEMENT_PATTERN


def test_aarc_entitlements_give_projects_and_roles() -> None:
    values = [
        "urn:geant:myaccessid.org:group:latchkey:project_462000008:role=manager#aai.myaccessid.org",
        "urn:geant:myaccessid.org:group:latchkey:project_462000009#aai.myaccessid.org",
        "urn:geant:haka.fi:group:csc:project_462000010:role=read-only#haka.fi",
    ]
    assert parse_entitlements(values, PATTERN) == {
        "462000008": Role.MANAGER,
        "462000009": Role.MEMBER,
        "462000010": Role.READ_ONLY,
    }


def test_unrelated_and_malformed_values_are_ignored() -> None:
    values = [
        "urn:geant:myaccessid.org:group:other-vo#aai.myaccessid.org",
        "urn:geant:myaccessid.org:group:latchkey:project_abc#x",
        "urn:geant:myaccessid.org:group:latchkey:project_462000008:role=emperor#x",
        "project_462000008",
    ]
    assert parse_entitlements(values, PATTERN) == {}


def test_most_privileged_role_wins() -> None:
    values = [
        "urn:x:group:project_462000008:role=read-only",
        "urn:x:group:project_462000008:role=deputy",
        "urn:x:group:project_462000008",
    ]
    assert parse_entitlements(values, PATTERN) == {"462000008": Role.DEPUTY}


def test_claim_values_accepts_string_or_list() -> None:
    assert claim_values({"e": "a"}, "e") == ["a"]
    assert claim_values({"e": ["a", 3, "b"]}, "e") == ["a", "b"]
    assert claim_values({}, "e") == []


def test_userinfo_overrides_id_token() -> None:
    merged = merged_claims({"id_token": {"sub": "1", "email": "old@x"}, "userinfo": {"email": "new@x"}})
    assert merged == {"sub": "1", "email": "new@x"}


MYACCESSID = ProviderTrust(entitlement_prefixes=("urn:geant:myaccessid.org:group:latchkey:",))
MANAGER_OF_8 = "urn:geant:myaccessid.org:group:latchkey:project_462000008:role=manager#aai.myaccessid.org"


def test_a_provider_asserts_only_inside_its_namespace() -> None:
    values = [
        MANAGER_OF_8,
        "urn:geant:haka.fi:group:latchkey:project_462000009:role=manager#haka.fi",  # another's namespace
        "urn:geant:myaccessid.org:group:latchkey-evil:project_462000010:role=manager",  # look-alike group
        "URN:GEANT:MYACCESSID.ORG:GROUP:LATCHKEY:project_462000011:role=manager",  # upper case: not ours
        "urn:geant:my\u0430ccessid.org:group:latchkey:project_462000012:role=manager",  # a Cyrillic a
        "urn:geant:myaccessid.org:group:latchkey:project_462000013:role=member:role=manager",  # extra part
        "urn:geant:myaccessid.org:group:latchkey:project_462000014:" + "x" * 5000,  # huge
        "urn:geant:other.org:group:urn:geant:myaccessid.org:group:latchkey:project_462000015",  # nested
        # L2: a subgroup below the trusted group, which whoever may make subgroups there controls
        "urn:geant:myaccessid.org:group:latchkey:mallorys-sub:project_462000016:role=manager#aai.myaccessid.org",
        "urn:geant:myaccessid.org:group:latchkey:a:b:project_462000017:role=manager",
    ]
    asserted, ignored = trusted_entitlements(values, PATTERN, MYACCESSID)
    assert asserted == {"462000008": Role.MANAGER}
    assert len(ignored) == 8  # the extra-part value is inside the namespace but not an entitlement


def test_a_provider_with_no_namespace_or_unknown_asserts_nothing() -> None:
    assert trusted_entitlements([MANAGER_OF_8], PATTERN, ProviderTrust()) == ({}, [MANAGER_OF_8])
    assert trusted_entitlements([MANAGER_OF_8], PATTERN, None) == ({}, [MANAGER_OF_8])


def test_project_ranges_limit_what_a_provider_asserts() -> None:
    trust = ProviderTrust(MYACCESSID.entitlement_prefixes, project_ranges=((462000009, 462000019),))
    other = "urn:geant:myaccessid.org:group:latchkey:project_462000010#aai.myaccessid.org"
    asserted, ignored = trusted_entitlements([MANAGER_OF_8, other], PATTERN, trust)
    assert asserted == {"462000010": Role.MEMBER}
    assert ignored == ["project 462000008 (not among the provider's projects)"]


def test_a_flood_of_values_is_cut() -> None:
    values = [MANAGER_OF_8] + [f"urn:x:{i}" for i in range(MAX_VALUES + 10)]
    asserted, ignored = trusted_entitlements(values, PATTERN, MYACCESSID)
    assert asserted == {"462000008": Role.MANAGER} and len(ignored) == MAX_VALUES + 10
