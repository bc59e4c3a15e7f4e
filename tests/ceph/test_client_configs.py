"""Every generated config, used by its real client against the test stack's Ceph: make a bucket,
put, list, get and compare the bytes, and presign where the client can. Also another project's
bucket as ``T:bucket`` with the clients that can address it (rclone, s3cmd, boto3)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from django.conf import settings

from accounts.models import User
from buckets.grants import GrantRequest, grant_create
from buckets.services import bucket_create
from keys.configs import ClientSettings, ConfigFile, client_configs, remote_name, secret_bundle
from keys.models import AccessKey
from keys.scopes import scope_from
from lifecycle.keys import key_create
from projects.models import Membership, Project, Role
from storage import client as storage
from tests.support import ROOT

pytestmark = [pytest.mark.django_db, pytest.mark.ceph]
PAYLOAD = secrets.token_bytes(3 * 1024 * 1024 + 17)  # more than one multipart chunk for some clients


def _env(**extra: str) -> dict[str, str]:
    # Nothing from this machine's AWS settings leaks in: each client gets only its own file.
    # rclone 1.60 also fails outright while AWS_CA_BUNDLE is set (the config page says so).
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RCLONE_", "FSSPEC_"))}
    return {**env, "HOME": extra.pop("HOME", env.get("HOME", "/root")), **extra}


def run(*args: str, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(args), capture_output=True, text=True, timeout=120, env=env or _env(), check=False)
    if check:
        assert result.returncode == 0, f"{args[0]} failed: {result.stderr[-2000:]}"
    return result


@pytest.fixture
def configs(project: Project, member_of: Callable[..., Membership], tmp_path: Path) -> dict[str, Any]:
    membership = member_of(project, Role.MEMBER)
    issued = key_create(membership=membership, hours=2, description="config test")
    files = client_configs(
        ClientSettings(issued.key.access_key_id, issued.secret, settings.LATCHKEY_S3_ENDPOINTS[0][1], storage.region()),
        project_number=project.number,
    )
    by_client: dict[str, Any] = {c.client: c for c in files}
    by_client["dir"], by_client["project"], by_client["membership"] = tmp_path, project, membership
    (tmp_path / "payload.bin").write_bytes(PAYLOAD)
    return by_client


def _write(directory: Path, config: ConfigFile) -> Path:
    path = directory / config.filename
    path.write_text(config.content)
    return path


def _fetch(url: str) -> bytes:
    response = requests.get(url.strip(), timeout=30)
    assert response.status_code == 200, response.text[:300]
    return response.content


def test_every_client_has_a_config_with_the_key(configs: dict[str, Any]) -> None:
    files = [
        configs[c]
        for c in (
            "rclone",
            "s3cmd",
            "aws-credentials",
            "aws-config",
            "boto3",
            "s3fs-json",
            "s3fs-python",
            "shell",
            "mc",
        )
    ]
    assert len({f.filename for f in files}) == len(files)
    key = AccessKey.objects.get(owner=configs["membership"].user)
    assert [f.client for f in files if key.access_key_id not in f.content] == ["aws-config"]
    assert configs["aws-config"].content.count(settings.LATCHKEY_S3_ENDPOINTS[0][1]) == 1
    assert configs["mc"].content.startswith(f"mc alias set {remote_name(configs['project'].number)} http")
    assert configs["mc"].content.rstrip().endswith("--api S3v4 --path on")


def test_rclone(configs: dict[str, Any]) -> None:
    d, remote = configs["dir"], remote_name(configs["project"].number)
    conf = _write(d, configs["rclone"])
    rc = ("rclone", "--config", str(conf))
    run(*rc, "mkdir", f"{remote}:rc-bucket")
    run(*rc, "copyto", str(d / "payload.bin"), f"{remote}:rc-bucket/dir/payload.bin")
    assert sorted(run(*rc, "lsf", "-R", f"{remote}:rc-bucket").stdout.split()) == ["dir/", "dir/payload.bin"]
    run(*rc, "copyto", f"{remote}:rc-bucket/dir/payload.bin", str(d / "back.bin"))
    assert (d / "back.bin").read_bytes() == PAYLOAD
    assert _fetch(run(*rc, "link", "--expire", "1h", f"{remote}:rc-bucket/dir/payload.bin").stdout) == PAYLOAD


def test_s3cmd(configs: dict[str, Any]) -> None:
    d = configs["dir"]
    s3 = ("s3cmd", "-c", str(_write(d, configs["s3cmd"])))
    run(*s3, "mb", "s3://s3cmd-bucket")
    run(*s3, "put", str(d / "payload.bin"), "s3://s3cmd-bucket/payload.bin")
    assert "s3://s3cmd-bucket/payload.bin" in run(*s3, "ls", "s3://s3cmd-bucket").stdout
    run(*s3, "get", "s3://s3cmd-bucket/payload.bin", str(d / "back.bin"))
    assert (d / "back.bin").read_bytes() == PAYLOAD
    assert _fetch(run(*s3, "signurl", "s3://s3cmd-bucket/payload.bin", "+600").stdout) == PAYLOAD


def test_aws_cli_v1(configs: dict[str, Any]) -> None:
    d, profile = configs["dir"], remote_name(configs["project"].number)
    env = _env(
        AWS_SHARED_CREDENTIALS_FILE=str(_write(d, configs["aws-credentials"])),
        AWS_CONFIG_FILE=str(_write(d, configs["aws-config"])),
    )
    aws = (str(ROOT / ".venv/bin/aws"), "--profile", profile, "s3")
    run(*aws, "mb", "s3://aws-bucket", env=env)
    run(*aws, "cp", str(d / "payload.bin"), "s3://aws-bucket/payload.bin", env=env)
    assert "payload.bin" in run(*aws, "ls", "s3://aws-bucket", env=env).stdout
    run(*aws, "cp", "s3://aws-bucket/payload.bin", str(d / "back.bin"), env=env)
    assert (d / "back.bin").read_bytes() == PAYLOAD
    assert _fetch(run(*aws, "presign", "s3://aws-bucket/payload.bin", env=env).stdout) == PAYLOAD


def test_boto3_snippet(configs: dict[str, Any]) -> None:
    d = configs["dir"]
    script = configs["boto3"].content + (
        "import sys\n"
        "data = open(sys.argv[1], 'rb').read()\n"
        "s3.create_bucket(Bucket='boto3-bucket')\n"
        "s3.put_object(Bucket='boto3-bucket', Key='p.bin', Body=data)\n"
        "assert [o['Key'] for o in s3.list_objects_v2(Bucket='boto3-bucket')['Contents']] == ['p.bin']\n"
        "assert s3.get_object(Bucket='boto3-bucket', Key='p.bin')['Body'].read() == data\n"
        "print(s3.generate_presigned_url('get_object', Params={'Bucket': 'boto3-bucket', 'Key': 'p.bin'}))\n"
    )
    assert _fetch(run(sys.executable, "-c", script, str(d / "payload.bin")).stdout) == PAYLOAD


def test_s3fs_json_and_python(configs: dict[str, Any]) -> None:
    d = configs["dir"]
    python = str(ROOT / ".venv-s3fs/bin/python")
    (d / "fsspec").mkdir()
    (d / "fsspec" / "s3.json").write_text(configs["s3fs-json"].content)
    script = (
        "import sys, fsspec\n"
        "fs = fsspec.filesystem('s3')\n"
        "fs.mkdir('s3fs-bucket')\n"
        "fs.pipe('s3fs-bucket/p.bin', open(sys.argv[1], 'rb').read())\n"
        "assert fs.ls('s3fs-bucket', detail=False) == ['s3fs-bucket/p.bin'], fs.ls('s3fs-bucket')\n"
        "assert fs.cat('s3fs-bucket/p.bin') == open(sys.argv[1], 'rb').read()\n"
        "print(fs.url('s3fs-bucket/p.bin', expires=600))\n"
    )
    url = run(python, "-c", script, str(d / "payload.bin"), env=_env(FSSPEC_CONFIG_DIR=str(d / "fsspec"))).stdout
    assert _fetch(url) == PAYLOAD
    snippet = (
        configs["s3fs-python"].content
        + "print(fs.cat('s3fs-bucket/p.bin') == open(__import__('sys').argv[1], 'rb').read())\n"
    )
    assert run(python, "-c", snippet, str(d / "payload.bin")).stdout.strip() == "True"


def test_shell_exports_for_aws_boto3_and_rclone(configs: dict[str, Any]) -> None:
    d = configs["dir"]
    exports = _write(d, configs["shell"])
    aws = ROOT / ".venv/bin/aws"
    script = (
        f". {exports}\n"
        f"{aws} s3 mb s3://shell-bucket\n"
        f"{aws} s3 cp {d / 'payload.bin'} s3://shell-bucket/p.bin\n"
        f"{sys.executable} -c \"import boto3; c = boto3.client('s3'); "
        "print(c.get_object(Bucket='shell-bucket', Key='p.bin')['ContentLength'])\"\n"
        "rclone lsf :s3:shell-bucket\n"
    )
    out = run("bash", "-euc", script).stdout.split()
    assert out[-2:] == [str(len(PAYLOAD)), "p.bin"], out


def test_another_projects_bucket_as_tenant_colon_bucket(
    configs: dict[str, Any], unique: Callable[[], str], make_user: Callable[..., Any]
) -> None:
    d, mine = configs["dir"], configs["project"]
    other = Project.objects.create(number=unique(), title="Other", tenant=f"to{unique()}")
    owner = Membership.objects.create(user=make_user("owner"), project=other, role=Role.MANAGER)
    bucket = bucket_create(membership=owner, name="shared")
    grant_create(
        actor=owner.user,
        bucket=bucket,
        request=GrantRequest(kind="project", access="readwrite", project_number=mine.number),
    )
    target = f"{other.tenant}:shared"
    remote = remote_name(mine.number)
    rc = ("rclone", "--config", str(_write(d, configs["rclone"])))
    run(*rc, "copyto", "--s3-no-check-bucket", str(d / "payload.bin"), f"{remote}:{target}/from-rclone.bin")
    s3 = ("s3cmd", "-c", str(_write(d, configs["s3cmd"])))
    run(*s3, "get", f"s3://{target}/from-rclone.bin", str(d / "via-s3cmd.bin"))
    assert (d / "via-s3cmd.bin").read_bytes() == PAYLOAD
    script = configs["boto3"].content.replace("# from botocore", "from botocore").replace("# s3.meta", "s3.meta") + (
        f"print(len(s3.get_object(Bucket={target!r}, Key='from-rclone.bin')['Body'].read()))\n"
    )
    assert run(sys.executable, "-c", script).stdout.strip() == str(len(PAYLOAD))


def test_a_bucket_scoped_keys_files_say_so_and_work_with_rclone_s3cmd_and_aws(configs: dict[str, Any]) -> None:
    """The scope comment leaves every file readable by its client; the key writes (multipart
    too: the payload is more than one chunk) and reads its bucket through each of them."""
    d, project = configs["dir"], configs["project"]
    boss = Membership.objects.create(
        user=User.objects.create_user(username=f"boss-{secrets.token_hex(3)}"), project=project, role=Role.MANAGER
    )
    bucket_create(membership=boss, name="scoped-out")
    scope = scope_from("buckets", [("scoped-out", "readwrite")])
    issued = key_create(membership=configs["membership"], hours=1, description="scoped", scope=scope)
    bundle = secret_bundle(
        access_key=issued.key.access_key_id,
        secret=issued.secret,
        project_number=project.number,
        endpoint=settings.LATCHKEY_S3_ENDPOINTS[0][1],
        scope=scope.label,
    )
    files = {c.client: c for c in bundle.configs}
    assert files["rclone"].content.startswith(
        f"[{remote_name(project.number)}]\n# Latchkey key scope: only the buckets"
    )
    assert "no_check_bucket = true" in files["rclone"].content  # else rclone's CreateBucket fails the copy
    assert "no_check_bucket" not in configs["rclone"].content  # a member's key may make buckets
    remote = remote_name(project.number)
    rc = ("rclone", "--config", str(_write(d, files["rclone"])))
    run(*rc, "copyto", str(d / "payload.bin"), f"{remote}:scoped-out/rc.bin")
    s3 = ("s3cmd", "-c", str(_write(d, files["s3cmd"])))
    run(*s3, "put", str(d / "payload.bin"), "s3://scoped-out/s3cmd.bin")
    env = _env(
        AWS_SHARED_CREDENTIALS_FILE=str(_write(d, files["aws-credentials"])),
        AWS_CONFIG_FILE=str(_write(d, files["aws-config"])),
    )
    aws = (str(ROOT / ".venv/bin/aws"), "--profile", remote, "s3")
    run(*aws, "cp", str(d / "payload.bin"), "s3://scoped-out/aws.bin", env=env)
    assert sorted(run(*rc, "lsf", f"{remote}:scoped-out").stdout.split()) == ["aws.bin", "rc.bin", "s3cmd.bin"]
    run(*aws, "cp", "s3://scoped-out/rc.bin", str(d / "back.bin"), env=env)
    assert (d / "back.bin").read_bytes() == PAYLOAD
    assert run(*s3, "mb", "s3://not-for-this-key", check=False).returncode != 0  # it creates no bucket
