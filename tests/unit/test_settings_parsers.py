from __future__ import annotations

import pytest

from portal.env import (
    EnvError,
    env_bool,
    env_endpoints,
    env_int,
    env_json,
    env_list,
    env_retention,
    env_secret,
    url_with_password,
)
from portal.oidc_config import ProviderTrust, parse_oidc_providers, parse_provider_trust


def test_env_bool_accepts_common_spellings(monkeypatch: pytest.MonkeyPatch) -> None:
    for text, expected in [("true", True), ("ON", True), ("1", True), ("no", False), ("0", False)]:
        monkeypatch.setenv("X_FLAG", text)
        assert env_bool("X_FLAG", not expected) is expected


def test_env_bool_rejects_garbage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(EnvError, match="X_FLAG: expected a boolean"):
        env_bool("X_FLAG", False)


def test_env_unset_or_empty_gives_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("X_NUM", raising=False)
    assert env_int("X_NUM", 7) == 7
    monkeypatch.setenv("X_NUM", "")
    assert env_int("X_NUM", 7) == 7


def test_env_int_bounds_and_type(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_NUM", "200")
    with pytest.raises(EnvError, match="at most 168"):
        env_int("X_NUM", 1, maximum=168)
    monkeypatch.setenv("X_NUM", "twelve")
    with pytest.raises(EnvError, match="expected an integer"):
        env_int("X_NUM", 1)
    monkeypatch.setenv("X_NUM", "12")
    assert env_int("X_NUM", 1, minimum=1, maximum=168) == 12


def test_env_list_splits_and_trims(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_LIST", " a.example , b.example,,")
    assert env_list("X_LIST", []) == ["a.example", "b.example"]


def test_env_secret_from_file(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    secret_file = tmp_path / "s"
    secret_file.write_text("from-file\n")
    monkeypatch.delenv("X_SECRET", raising=False)
    monkeypatch.setenv("X_SECRET_FILE", str(secret_file))
    assert env_secret("X_SECRET") == "from-file"
    monkeypatch.setenv("X_SECRET", "direct")
    with pytest.raises(EnvError, match="both set"):
        env_secret("X_SECRET")


def test_env_secret_missing_file_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("X_SECRET", raising=False)
    monkeypatch.setenv("X_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(EnvError, match="cannot read"):
        env_secret("X_SECRET")


def test_env_json_reports_position(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_JSON", '[{"id": }]')
    with pytest.raises(EnvError, match=r"invalid JSON .* line 1"):
        env_json("X_JSON", [])


GOOD = {
    "id": "myaccessid",
    "name": "MyAccessID",
    "issuer": "https://proxy.myaccessid.org",
    "client_id": "latchkey",
    "client_secret": "s3cret",
}


def test_oidc_providers_become_allauth_apps_in_order() -> None:
    apps = parse_oidc_providers([GOOD, {**GOOD, "id": "haka", "name": "HAKA", "issuer": "https://haka.example/"}])
    assert [a["provider_id"] for a in apps] == ["myaccessid", "haka"]
    assert apps[0]["secret"] == "s3cret"
    assert apps[1]["settings"]["server_url"] == "https://haka.example"
    assert "eduperson_entitlement" in apps[0]["settings"]["scope"]
    assert apps[0]["settings"]["oauth_pkce_enabled"] is True


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"id": "x"}, "expected a JSON list"),
        ([{**GOOD, "issuer": "ftp://x"}], r"\[0\]\.issuer: expected an http"),
        ([{**GOOD, "id": "Bad Id"}], r"\[0\]\.id: use lowercase"),
        ([GOOD, GOOD], r"\[1\]\.id: 'myaccessid' is listed twice"),
        ([{k: v for k, v in GOOD.items() if k != "client_secret"}], r"\[0\]\.client_secret: required"),
        ([{**GOOD, "scopes": ["profile"]}], "must include 'openid'"),
        (["nope"], r"\[0\]: expected an object"),
    ],
)
def test_oidc_providers_reject_bad_entries(data: object, message: str) -> None:
    with pytest.raises(EnvError, match=message):
        parse_oidc_providers(data)


def test_env_endpoints_names_urls_and_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("X_EP", raising=False)
    assert env_endpoints("X_EP", "http://127.0.0.1:7480") == [("default", "http://127.0.0.1:7480")]
    monkeypatch.setenv("X_EP", "internal=http://10.0.0.5:8080/, external=https://s3.example.org")
    assert env_endpoints("X_EP", "") == [("internal", "http://10.0.0.5:8080"), ("external", "https://s3.example.org")]
    for bad, reason in [
        ("s3.example.org", "expected name="),
        ("x=ftp://h", "expected name="),
        ("a=http://h,a=https://h", "appears twice"),
        ("=http://h", "expected name="),
    ]:
        monkeypatch.setenv("X_EP", bad)
        with pytest.raises(EnvError, match=reason):
            env_endpoints("X_EP", "")


def test_provider_trust_reads_namespaces_and_project_ranges() -> None:
    trust = parse_provider_trust(
        [
            {
                **GOOD,
                "entitlement_prefixes": ["urn:geant:myaccessid.org:group:latchkey:"],
                "projects": ["462000000-462999999", "465000001"],
            },
            {**GOOD, "id": "haka", "issuer": "https://haka.example"},
        ]
    )
    mine = trust["myaccessid"]
    assert mine.entitlement_prefixes == ("urn:geant:myaccessid.org:group:latchkey:",)
    assert mine.admits_project("462000008") and mine.admits_project("465000001")
    assert not mine.admits_project("465000002") and not mine.admits_project("461999999")
    assert trust["haka"] == ProviderTrust()  # nothing configured: it asserts no membership


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"entitlement_prefixes": "urn:x:"}, "expected a list of strings"),
        ({"entitlement_prefixes": ["urn:geant:myaccessid.org:group:latchkey"]}, "ending with ':'"),
        ({"entitlement_prefixes": ["group:latchkey:"]}, "must be an ASCII URN"),
        ({"entitlement_prefixes": ["urn:geant:my\u0430ccessid.org:"]}, "must be an ASCII URN"),  # a Cyrillic a
        ({"projects": "462000008"}, "expected a list"),
        ({"projects": ["462-abc"]}, "not a project number or a range"),
        ({"projects": [462000008]}, "not a project number or a range"),
        ({"projects": ["9-1"]}, "ends before it starts"),
        ({"api_clients": "oidc-agent"}, "expected a list of client ids"),
        ({"api_clients": [""]}, "expected a list of client ids"),
        ({"api_jwt_local": "yes"}, "expected true or false"),
        ({"api_clients": ["oidc-agent"]}, "api_audience: required where api_clients is set"),
        ({"api_clients": ["oidc-agent"], "api_audience": " "}, "expected the audience"),
        ({"api_audience": ["urn:latchkey:api"]}, "expected the audience"),
    ],
)
def test_provider_trust_rejects_bad_entries(extra: dict[str, object], message: str) -> None:
    with pytest.raises(EnvError, match=message):
        parse_provider_trust([{**GOOD, **extra}])


def test_url_with_password_quotes_it_and_refuses_two() -> None:
    assert url_with_password("redis://redis:6379/0", None) == "redis://redis:6379/0"
    assert url_with_password("redis://redis:6379/0", "a b/@:") == "redis://:a%20b%2F%40%3A@redis:6379/0"
    with pytest.raises(EnvError, match="already carries a password"):
        url_with_password("redis://:x@redis:6379/0", "y")


def test_env_retention_reads_age_step_bands(monkeypatch: pytest.MonkeyPatch) -> None:
    assert env_retention("X_KEEP", "2d:all,30d:1h,730d:1d") == [(172800, 0), (2592000, 3600), (63072000, 86400)]
    monkeypatch.setenv("X_KEEP", " 90m:all , 12h:15m ")
    assert env_retention("X_KEEP", "2d:all") == [(5400, 0), (43200, 900)]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2d", "expected age:step"),
        ("2w:all", "expected age:step"),
        ("0d:all", "expected age:step"),
        ("2d:1x", "expected age:step"),
        ("30d:1h,2d:all", "keep points longer"),  # not youngest first
        ("2d:1h,30d:10m", "no closer together"),  # a finer step for older points
        ("1h:1h", "not shorter than its age"),
        ("\u00b2d:all", "expected age:step"),  # a superscript two is a digit to str.isdigit
        ("1000000d:1d", "more than 100 years"),  # would overflow the dates the prune computes
    ],
)
def test_env_retention_rejects_what_it_cannot_follow(monkeypatch: pytest.MonkeyPatch, value: str, reason: str) -> None:
    monkeypatch.setenv("X_KEEP", value)
    with pytest.raises(EnvError, match=reason):
        env_retention("X_KEEP", "2d:all")
