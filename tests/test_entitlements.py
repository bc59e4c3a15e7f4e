from __future__ import annotations

from django.conf import settings

from projects.entitlements import claim_values, merged_claims, parse_entitlements
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
