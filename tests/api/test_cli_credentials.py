"""`latchkey credentials` (the AWS credential_process) and `configure --credential-process` against
a live Latchkey with the real Ceph: the key it prints works in S3, is cached 0600 and reused, and
is replaced before it ends, the old key then refused by S3; the real aws CLI, boto3 and rclone
(env_auth with `profile =`) use the profile across renewals; bad scope options make no key."""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from accounts.models import User
from buckets.services import bucket_create
from keys.models import AccessKey
from projects.models import Membership, Project, Role
from storage import client as storage
from tests.support import ROOT
from tests.support.cli import LATCHKEY, approve_in_django, cli_run
from tests.support.s3 import s3_error_code, wait_refused

pytestmark = [pytest.mark.ceph, pytest.mark.usefixtures("many_device_logins")]
AWS = str(ROOT / ".venv/bin/aws")
PYTHON = str(ROOT / ".venv/bin/python")
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
# 1-hour keys renewed 61 minutes before their end: every use renews.
CONFIGURE_AWS = (
    "configure",
    "-p",
    "462000042",
    "--client",
    "aws",
    "--credential-process",
    "--hours",
    "1",
    "--renew-minutes",
    "61",
)
BOTO3 = """
import sys, boto3
session = boto3.Session(profile_name=sys.argv[1])
s3 = session.client("s3")
s3.put_object(Bucket=sys.argv[2], Key="from-boto3", Body=b"hello")
assert s3.get_object(Bucket=sys.argv[2], Key="from-boto3")["Body"].read() == b"hello"
print(session.get_credentials().access_key)
"""


def _member(live_server_url: str, tmp_path: Path, number: str) -> Path:
    project = Project.objects.create(number=number, title="Credentials", tenant=f"crd{secrets.token_hex(4)}")
    user = User.objects.create_user(username=f"cred-{secrets.token_hex(3)}")
    Membership.objects.create(user=user, project=project, role=Role.MEMBER)
    home = tmp_path / "home"
    assert approve_in_django(live_server_url, home, user, "confirm").returncode == 0
    return home


def _credentials(home: Path, *args: str) -> dict[str, Any]:
    done = cli_run(home, LATCHKEY, "credentials", *args)
    assert done.stderr == ""
    answer = dict(json.loads(done.stdout))
    assert set(answer) == {"Version", "AccessKeyId", "SecretAccessKey", "Expiration"} and answer["Version"] == 1
    assert ISO_UTC.match(answer["Expiration"])
    return answer


def _cache(home: Path) -> dict[Path, dict[str, Any]]:
    return {p: json.loads(p.read_text()) for p in (home / ".config/latchkey/credentials").glob("*.json")}


def _active() -> list[str]:
    return list(AccessKey.objects.filter(status=AccessKey.Status.ACTIVE).values_list("access_key_id", flat=True))


@pytest.mark.django_db(transaction=True)
def test_credentials_work_in_s3_are_cached_and_renewed(live_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    home = _member(live_server.url, tmp_path, "462000041")
    first = _credentials(home, "-p", "462000041", "--hours", "1")
    key = AccessKey.objects.get(access_key_id=first["AccessKeyId"])
    assert key.status == AccessKey.Status.ACTIVE
    expires = datetime.strptime(first["Expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert expires == key.expires_at.replace(microsecond=0)
    assert s3_error_code(first["AccessKeyId"], first["SecretAccessKey"]) is None  # boto3, real radosgw

    (path, cached), *others = _cache(home).items()
    assert not others and path.name.startswith("462000041-")
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o077 == 0
    assert cached["secret_key"] == first["SecretAccessKey"]

    assert _credentials(home, "-p", "462000041", "--hours", "1") == first  # reused
    assert _active() == [first["AccessKeyId"]]

    # Renewal: the key has less than --renew-minutes left, so a new one replaces it and the old
    # one is deleted: S3 refuses a request signed with it.
    second = _credentials(home, "-p", "462000041", "--hours", "1", "--renew-minutes", "61")
    assert second["AccessKeyId"] != first["AccessKeyId"]
    assert wait_refused(first["AccessKeyId"], first["SecretAccessKey"]) is not None
    assert s3_error_code(second["AccessKeyId"], second["SecretAccessKey"]) is None
    assert _active() == [second["AccessKeyId"]]
    assert _cache(home)[path]["revoke"] == []

    # Deleted on the server (here with `keys delete`): the next call makes a new key.
    cli_run(home, LATCHKEY, "keys", "delete", "-p", "462000041", second["AccessKeyId"])
    third = _credentials(home, "-p", "462000041", "--hours", "1")
    assert third["AccessKeyId"] != second["AccessKeyId"] and _active() == [third["AccessKeyId"]]

    # Another scope is another cache file and another key; the first scope's key stays.
    scoped = _credentials(home, "-p", "462000041", "--hours", "1", "--read-only")
    assert scoped["AccessKeyId"] != third["AccessKeyId"] and len(_cache(home)) == 2
    assert sorted(_active()) == sorted([third["AccessKeyId"], scoped["AccessKeyId"]])
    listed = cli_run(home, LATCHKEY, "keys", "list", "-p", "462000041").stdout
    assert "SCOPE" in listed.splitlines()[0] and third["AccessKeyId"] in listed
    assert re.search(rf"{third['AccessKeyId']}\s+\S+\s+member\s", listed)

    # A damaged cache file is replaced, not an error for aws to show.
    path.write_text("{not json")
    fourth = _credentials(home, "-p", "462000041", "--hours", "1")
    assert fourth["AccessKeyId"] not in (third["AccessKeyId"], scoped["AccessKeyId"])
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.django_db(transaction=True)
def test_aws_boto3_and_rclone_use_the_profile_across_renewals(live_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    home = _member(live_server.url, tmp_path, "462000042")
    profile, bucket = "latchkey-462000042", f"cred-{secrets.token_hex(4)}"
    aws_dir = home / ".aws"
    aws_dir.mkdir()
    config_before = "[default]\nregion = eu-north-1\n"
    credentials_before = f"[default]\naws_access_key_id = OLD\n\n[{profile}]\naws_access_key_id = STALE\n"
    (aws_dir / "config").write_text(config_before)
    (aws_dir / "credentials").write_text(credentials_before)

    written = cli_run(home, LATCHKEY, *CONFIGURE_AWS)
    assert "key " in written.stdout
    config = (aws_dir / "config").read_text()
    line = re.search(r"^credential_process = (.+)$", config, re.M)
    assert line and line.group(1) == f"{LATCHKEY} credentials -p 462000042 --hours 1 --renew-minutes 61"
    assert "endpoint_url = http" in config and "addressing_style = path" in config
    # Static keys in the profile would win over credential_process: the old section is gone.
    assert (aws_dir / "credentials").read_text().rstrip() == "[default]\naws_access_key_id = OLD"
    (cache_path, configured), *_ = _cache(home).items()
    assert _active() == [configured["access_key_id"]]

    def used_and_renewed(before: dict[str, Any]) -> dict[str, Any]:
        """Every call renews (--renew-minutes 61 on a 1 h key): the key that was cached is refused."""
        now = _cache(home)[cache_path]
        assert now["access_key_id"] != before["access_key_id"] and _active() == [now["access_key_id"]]
        assert wait_refused(before["access_key_id"], before["secret_key"]) is not None
        return now

    cli_run(home, AWS, "--profile", profile, "s3", "mb", f"s3://{bucket}")
    current = used_and_renewed(configured)
    payload = tmp_path / "payload.txt"
    payload.write_text("via aws")
    cli_run(home, AWS, "--profile", profile, "s3", "cp", str(payload), f"s3://{bucket}/from-aws")
    current = used_and_renewed(current)
    listed = cli_run(home, AWS, "s3api", "list-objects-v2", "--bucket", bucket, "--profile", profile).stdout
    assert "from-aws" in listed
    current = used_and_renewed(current)

    boto3_key = cli_run(home, PYTHON, "-c", BOTO3, profile, bucket).stdout.strip()
    current = used_and_renewed(current)
    assert boto3_key == current["access_key_id"]

    # rclone's env_auth goes through the AWS SDK's shared config, credential_process included.
    rclone_conf = home / ".config/rclone/rclone.conf"
    endpoint = re.search(r"^endpoint_url = (\S+)$", config, re.M)
    region = re.search(r"^region = (\S+)$", config.split(f"[profile {profile}]")[1], re.M)
    assert endpoint and region
    rclone_conf.parent.mkdir(parents=True, exist_ok=True)
    rclone_conf.write_text(
        f"[lk]\ntype = s3\nprovider = Ceph\nenv_auth = true\nprofile = {profile}\n"
        f"endpoint = {endpoint.group(1)}\nregion = {region.group(1)}\n"
    )
    assert cli_run(home, "rclone", "--contimeout", "10s", "lsf", f"lk:{bucket}").stdout.split() == [
        "from-aws",
        "from-boto3",
    ]
    current = used_and_renewed(current)

    # Configured again: its new key replaces the cached one, and --remove still restores the
    # credentials section the first run took out.
    cli_run(home, LATCHKEY, *CONFIGURE_AWS)
    current = used_and_renewed(current)
    assert (aws_dir / "config").read_text() == config

    # No secret in any file but the cache.
    for path in home.rglob("*"):
        if path.is_file() and path != cache_path:
            assert current["secret_key"] not in path.read_text(errors="replace"), path

    removed = cli_run(home, LATCHKEY, "configure", "--remove", "-p", "462000042")
    assert f"key {current['access_key_id']} revoked" in removed.stdout
    assert (aws_dir / "config").read_text() == config_before
    assert (aws_dir / "credentials").read_text() == credentials_before
    assert not cache_path.exists() and _active() == []
    assert wait_refused(current["access_key_id"], current["secret_key"]) is not None


@pytest.mark.django_db(transaction=True)
def test_bad_scope_options_are_one_clear_line_and_make_no_key(live_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    home = _member(live_server.url, tmp_path, "462000043")
    cases = {
        ("--bucket", ""): "name a bucket",
        ("--bucket", ":read"): "name a bucket",
        ("--bucket", "b1:write"): "the access is read or readwrite, not 'write'",
        ("--bucket", "b1:"): "the access is read or readwrite",
        ("--bucket", "a/b"): "a bucket name is 1 to 63",
        ("--bucket", "b1", "--bucket", "b1:readwrite"): "given more than once",
        ("--read-only", "--bucket", "b1"): "--read-only and --bucket do not go together",
    }
    commands = (
        ("credentials", "-p", "462000043"),
        ("keys", "create", "-p", "462000043", "--hours", "1", "-d", "scoped"),
        ("configure", "-p", "462000043", "--client", "aws", "--credential-process"),
    )
    for options, message in cases.items():
        for command in commands:
            done = cli_run(home, LATCHKEY, *command, *options, check=False)
            assert done.returncode == 1 and done.stdout == "", (command, options, done)
            assert done.stderr.startswith("latchkey: ") and message in done.stderr, (command, options, done.stderr)
            assert len(done.stderr.splitlines()) == 1
    other = cli_run(
        home, LATCHKEY, "configure", "-p", "462000043", "--client", "aws,rclone", "--credential-process", check=False
    )
    assert other.returncode == 1 and "for --client aws only" in other.stderr
    renew = cli_run(home, LATCHKEY, "credentials", "-p", "462000043", "--renew-minutes", "-1", check=False)
    assert renew.returncode == 1 and "--renew-minutes" in renew.stderr
    project = cli_run(home, LATCHKEY, "credentials", "-p", "../462000043", check=False)
    assert project.returncode == 1 and "a project is its number" in project.stderr
    too_long = cli_run(home, LATCHKEY, "credentials", "-p", "462000043", "--hours", "9999", check=False)
    assert too_long.returncode == 1 and "hours" in too_long.stderr and "Traceback" not in too_long.stderr
    assert not AccessKey.objects.exists()
    assert not (home / ".aws").exists() and not list((home / ".config/latchkey/credentials").glob("*.json"))


@pytest.mark.django_db(transaction=True)
def test_scope_options_make_keys_ceph_holds_to_their_scope(live_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    number = "462000044"
    home = _member(live_server.url, tmp_path, number)
    member = Membership.objects.get(project__number=number)
    manager = Membership.objects.create(
        user=User.objects.create_user(username=f"m-{secrets.token_hex(3)}"), project=member.project, role=Role.MANAGER
    )
    for name in ("inputs", "outputs"):
        bucket_create(membership=manager, name=name)
    made = cli_run(
        home, LATCHKEY, "keys", "create", "-p", number, "-d", "job", "--hours", "1", "--bucket", "outputs:readwrite"
    ).stdout.split()
    s3 = storage.s3_client(access_key=made[0], secret_key=made[1])
    s3.put_object(Bucket="outputs", Key="result", Body=b"1")
    with pytest.raises(ClientError, match="AccessDenied"):
        s3.list_objects_v2(Bucket="inputs")
    listed = cli_run(home, LATCHKEY, "keys", "list", "-p", number).stdout
    assert re.search(rf"{made[0]}\s.*outputs:readwrite", listed), listed

    reader = _credentials(home, "-p", number, "--read-only")
    s3 = storage.s3_client(access_key=reader["AccessKeyId"], secret_key=reader["SecretAccessKey"])
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="outputs")["Contents"]] == ["result"]
    with pytest.raises(ClientError, match="AccessDenied"):
        s3.put_object(Bucket="inputs", Key="x", Body=b"1")
    assert AccessKey.objects.get(access_key_id=reader["AccessKeyId"]).scope == AccessKey.Scope.READ_ONLY

    # A profile for a scoped key: the site's scope comment lands under the profile's header, so
    # the file still parses, the default profile gains nothing, and aws reads with the key.
    aws_dir = home / ".aws"
    aws_dir.mkdir(exist_ok=True)
    (aws_dir / "config").write_text("[default]\nregion = eu-north-1\n")
    cli_run(home, LATCHKEY, "configure", "-p", number, "--client", "aws", "--credential-process", "--read-only")
    config = (aws_dir / "config").read_text()
    assert config.split("[profile")[0].strip() == "[default]\nregion = eu-north-1", config
    assert config.index("[profile latchkey-462000044]") < config.index("# Latchkey key scope: read-only"), config
    assert config.count("credential_process") == 1
    profile = ("--profile", "latchkey-462000044")
    assert "result" in cli_run(home, AWS, *profile, "s3api", "list-objects-v2", "--bucket", "outputs").stdout
    assert cli_run(home, AWS, *profile, "s3", "cp", str(aws_dir / "config"), "s3://outputs/x", check=False).returncode
