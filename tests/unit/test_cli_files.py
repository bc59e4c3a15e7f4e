"""The CLI's handling of files other tools own: only its own section changes, comments and other
sections stay byte for byte, invalid files are refused, and a write never leaves half a file."""

from __future__ import annotations

from pathlib import Path

import pytest
from latchkey_cli import inifile, session
from latchkey_cli.configure import _merge, parse_clients
from latchkey_cli.session import CliError

OURS = "[latchkey-1]\ntype = s3\naccess_key_id = NEW\n"


def test_splice_appends_replaces_and_removes_only_our_section() -> None:
    text = "# top comment\n[a]\nx = 1 ; keep\n\n[b]\ny = 2\n"
    added = inifile.splice(text, "latchkey-1", OURS)
    assert added == text + "\n" + OURS
    replaced = inifile.splice(added, "latchkey-1", OURS.replace("NEW", "NEWER"))
    assert replaced == text + "\n" + OURS.replace("NEW", "NEWER")
    middle = inifile.splice("[latchkey-1]\nold = 1\n\n[b]\ny = 2\n", "latchkey-1", OURS)
    assert middle == OURS + "[b]\ny = 2\n"
    assert inifile.splice(replaced, "latchkey-1", None).rstrip("\n") == text.rstrip("\n")


def test_merge_keeps_the_users_other_s3cmd_settings() -> None:
    old = "[default]\naccess_key = OLD\nmultipart_chunk_size_mb = 15\nsecret_key = OLDS\n"
    new = "[default]\naccess_key = NEW\nsecret_key = NEWS\nhost_base = h:1\n"
    assert (
        _merge(old, new)
        == "[default]\naccess_key = NEW\nmultipart_chunk_size_mb = 15\nsecret_key = NEWS\nhost_base = h:1\n"
    )
    assert _merge(None, new) == new


def test_invalid_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text("[default\nregion\n")
    with pytest.raises(inifile.ConfigFileError, match="not a valid configuration file"):
        inifile.read(path)
    assert path.read_text() == "[default\nregion\n"
    assert inifile.read(tmp_path / "missing") == ""


def test_write_is_atomic_private_and_keeps_a_backup(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "rclone.conf"
    assert inifile.write(path, "[a]\n", backup=True) is None
    backup = inifile.write(path, "[b]\n", backup=True)
    assert path.read_text() == "[b]\n" and backup is not None and backup.read_text() == "[a]\n"
    assert path.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["rclone.conf", "rclone.conf.latchkey-backup"]


def test_a_planted_backup_symlink_is_replaced_not_followed(tmp_path: Path) -> None:
    """L8: someone who can write in the folder points the backup's name elsewhere."""
    path, elsewhere = tmp_path / "credentials", tmp_path / "attacker" / "loot"
    elsewhere.parent.mkdir()
    elsewhere.write_text("theirs\n")
    path.write_text("[old]\nsecret = s1\n")
    (tmp_path / "credentials.latchkey-backup").symlink_to(elsewhere)
    backup = inifile.write(path, "[new]\n", backup=True)
    assert backup is not None and not backup.is_symlink() and backup.read_text() == "[old]\nsecret = s1\n"
    assert backup.stat().st_mode & 0o777 == 0o600
    assert elsewhere.read_text() == "theirs\n"


def test_write_where_nothing_can_be_written_is_a_clear_error() -> None:
    with pytest.raises(inifile.ConfigFileError, match="cannot write"):
        inifile.write(Path("/proc/latchkey-test/rclone.conf"), "[a]\n", backup=True)


def test_clients_are_checked() -> None:
    assert parse_clients("rclone, aws,rclone") == ["rclone", "aws"]
    for bad in ("", "winscp", "rclone,ftp"):
        with pytest.raises(CliError, match="Unknown client"):
            parse_clients(bad)


def test_the_login_is_saved_atomically_0600_and_never_through_a_link(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    token = tmp_path / "latchkey/token.json"
    token.parent.mkdir()
    token.write_text("{}")
    token.chmod(0o644)  # left readable by an older version or by hand
    session.save_private(token, {"refresh_token": "r1"})
    assert token.stat().st_mode & 0o777 == 0o600 and session._load() == {"refresh_token": "r1"}
    assert [p.name for p in token.parent.iterdir()] == ["token.json"]  # no temporary file left

    shared = tmp_path / "shared.json"
    shared.write_text("untouched")
    token.unlink()
    token.symlink_to(shared)
    with pytest.raises(CliError, match="symbolic link"):
        session.save_private(token, {"refresh_token": "r2"})
    with pytest.raises(CliError, match="symbolic link"):
        session._load()
    assert shared.read_text() == "untouched"
