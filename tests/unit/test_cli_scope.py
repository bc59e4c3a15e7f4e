"""The CLI's scope options as the request body it sends (`scope` on POST .../keys/, only when an
option narrows the key, so today's server keeps working), the SCOPE column, the cache file names
per scope, the credential_process answer and the profile line configure writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from latchkey_cli import credentials, scope
from latchkey_cli.configure import _with_process
from latchkey_cli.main import _parser
from latchkey_cli.session import CliError


def _body(*argv: str) -> dict[str, object]:
    """The body `latchkey keys create` sends for these options."""
    args = _parser().parse_args(["keys", "create", "-p", "462000008", "--hours", "2", "-d", "job", *argv])
    chosen = scope.parse(read_only=args.read_only, buckets=args.bucket)
    return scope.key_body(description=args.description, hours=args.hours, scope=chosen)


def test_the_body_carries_scope_only_when_an_option_asks_for_one() -> None:
    assert _body() == {"description": "job", "hours": 2}
    assert _body("--read-only") == {"description": "job", "hours": 2, "scope": {"kind": "read-only"}}
    assert _body("--bucket", "b1", "--bucket", "b2:readwrite", "--bucket", "b3:read") == {
        "description": "job",
        "hours": 2,
        "scope": {
            "kind": "buckets",
            "buckets": [
                {"name": "b1", "access": "read"},  # the default: least privilege
                {"name": "b2", "access": "readwrite"},
                {"name": "b3", "access": "read"},
            ],
        },
    }
    assert json.loads(json.dumps(_body("--read-only"))) == _body("--read-only")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--bucket", ""), "name a bucket"),
        (("--bucket", ":readwrite"), "name a bucket"),
        (("--bucket", "b:write"), "not 'write'"),
        (("--bucket", "b:"), "read or readwrite"),
        (("--bucket", "a b"), "1 to 63"),
        (("--bucket", "x" * 64), "1 to 63"),
        (("--bucket", "b", "--bucket", "b:read"), "more than once"),
        (("--read-only", "--bucket", "b"), "do not go together"),
    ],
)
def test_bad_scope_options_are_refused(options: tuple[str, ...], message: str) -> None:
    with pytest.raises(CliError, match=message):
        _body(*options)


def test_scope_column_names_and_command_lines() -> None:
    assert [scope.label(s) for s in (None, {"kind": "member"}, {"kind": "read-only"})] == [
        "member",
        "member",
        "read-only",
    ]
    two = scope.parse(read_only=False, buckets=["b1", "b2:readwrite"])
    assert scope.label(two) == "b1:read,b2:readwrite"
    assert scope.arguments(two) == ["--bucket", "b1:read", "--bucket", "b2:readwrite"]
    assert scope.arguments(None) == [] and scope.arguments({"kind": "read-only"}) == ["--read-only"]
    for s in (None, {"kind": "read-only"}, two):
        args = _parser().parse_args(["credentials", "-p", "462000008", *scope.arguments(s)])
        assert scope.parse(read_only=args.read_only, buckets=args.bucket) == s


def test_each_project_and_scope_has_its_own_cache_file(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    two = scope.parse(read_only=False, buckets=["b1", "b2:readwrite"])
    swapped = scope.parse(read_only=False, buckets=["b2:readwrite", "b1"])
    paths = [
        credentials.cache_path("462000008", None),
        credentials.cache_path("462000008", {"kind": "member"}),
        credentials.cache_path("462000008", {"kind": "read-only"}),
        credentials.cache_path("462000008", two),
        credentials.cache_path("462000008", swapped),
        credentials.cache_path("462000009", None),
        credentials.cache_path("462000008", scope.parse(read_only=False, buckets=["b1:readwrite", "b2:readwrite"])),
    ]
    assert paths[0] == paths[1] and paths[3] == paths[4]  # the default is the member's scope; order is no matter
    assert len({paths[0], paths[2], paths[3], paths[5], paths[6]}) == 5
    assert all(p.parent == tmp_path / "latchkey/credentials" for p in paths)


def test_the_process_answer_and_a_damaged_or_linked_cache(tmp_path: Path) -> None:
    entry = {"server": "s", "access_key_id": "AK", "secret_key": "SK", "expires_at": "2030-01-02T03:04:05.678+02:00"}
    assert credentials.process_answer(entry) == {
        "Version": 1,
        "AccessKeyId": "AK",
        "SecretAccessKey": "SK",
        "Expiration": "2030-01-02T01:04:05Z",
    }
    assert credentials.process_answer({**entry, "expires_at": "2030-01-02T03:04:05Z"})["Expiration"] == (
        "2030-01-02T03:04:05Z"
    )
    path = tmp_path / "c.json"
    assert credentials.read_cache(path) is None
    for damaged in ("{", "[]", json.dumps({**entry, "secret_key": None})):
        path.write_text(damaged)
        assert credentials.read_cache(path) is None
    path.write_text(json.dumps(entry))
    assert credentials.read_cache(path) == entry
    link = tmp_path / "link.json"
    link.symlink_to(path)
    with pytest.raises(CliError, match="symbolic link"):
        credentials.read_cache(link)


def test_the_profile_runs_the_command_and_keeps_the_servers_settings() -> None:
    server = "[profile latchkey-1]\nregion = r\nendpoint_url = http://h:1\ns3 =\n    addressing_style = path\n"
    written = _with_process(server, ["/opt/my tools/latchkey", "credentials", "-p", "1", "--bucket", "b:read"])
    assert written == (
        "[profile latchkey-1]\n"
        "credential_process = '/opt/my tools/latchkey' credentials -p 1 --bucket b:read\n"
        "region = r\nendpoint_url = http://h:1\ns3 =\n    addressing_style = path\n"
    )
