"""Client configuration files for a key (facts: shared/design/client-configs.md).

Each generator gives the text a client reads, for path-style addressing and the cluster's
region (the zonegroup's api_name, the only value every client accepts). The files carry the
secret, so they are only ever rendered on the page that shows the secret, never stored.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, replace
from urllib.parse import urlparse

from storage import client as storage


@dataclass(frozen=True)
class ClientSettings:
    access_key: str
    secret_key: str
    endpoint: str  # with scheme: rclone assumes https without one
    region: str  # the zonegroup's api_name; other values break bucket creation
    makes_buckets: bool = True  # False for scoped keys: their user may create no bucket


@dataclass(frozen=True)
class ConfigFile:
    client: str  # stable id, e.g. "s3cmd"
    title: str
    filename: str  # the conventional name, used for the download
    where: str  # where the file goes, and the environment variable that overrides it
    content: str
    usage: str  # a first command to try

    @property
    def download_name(self) -> str:
        """The name a browser saves the download under: browsers never save a leading dot
        (Chromium drops it), so .s3cfg downloads as s3cfg and the page says where it goes."""
        return self.filename.lstrip(".")


def remote_name(project_number: str) -> str:
    """The rclone remote, aws profile and mc alias name for a project's key."""
    return f"latchkey-{project_number}"


# Over HTTPS, awscli v1 and boto3 uploads fail without these two (MissingContentLength).
CHECKSUMS = {"request_checksum_calculation": "when_required", "response_checksum_validation": "when_required"}
BOTO_CONFIG = {"signature_version": "s3v4", "s3": {"addressing_style": "path"}, **CHECKSUMS}


def rclone_config(settings: ClientSettings, *, remote: str) -> str:
    # provider = Ceph keeps path-style addressing; provider = AWS breaks it.
    # bucket-owner-full-control: an object written into another project's bucket (a grant) stays
    # readable by that bucket's project; with "private" only the writer's project could read it.
    # In one's own buckets the writer is the owner, so it changes nothing there.
    return (
        f"[{remote}]\n"
        "type = s3\n"
        "provider = Ceph\n"
        f"access_key_id = {settings.access_key}\n"
        f"secret_access_key = {settings.secret_key}\n"
        f"endpoint = {settings.endpoint}\n"
        f"region = {settings.region}\n"
        "acl = bucket-owner-full-control\n" + ("" if settings.makes_buckets else "no_check_bucket = true\n")
        # rclone creates the bucket before its first upload unless told not to; a scoped key may
        # not (AccessDenied, the whole copy fails), and its bucket exists already.
    )


def s3cmd_config(settings: ClientSettings) -> str:
    # host_base and host_bucket are both host:port: no %(bucket)s, so path style. use_https must
    # match the scheme (s3cmd fails with an SSL error otherwise); bucket_location is the region.
    url = urlparse(settings.endpoint)
    https = url.scheme == "https"
    return (
        "[default]\n"
        f"access_key = {settings.access_key}\n"
        f"secret_key = {settings.secret_key}\n"
        f"host_base = {url.netloc}\n"
        f"host_bucket = {url.netloc}\n"
        f"use_https = {'True' if https else 'False'}\n"
        f"bucket_location = {settings.region}\n"
        "signature_v2 = False\n"
    )


def aws_credentials(settings: ClientSettings, *, profile: str) -> str:
    return f"[{profile}]\naws_access_key_id = {settings.access_key}\naws_secret_access_key = {settings.secret_key}\n"


def aws_config(settings: ClientSettings, *, profile: str) -> str:
    return (
        f"[profile {profile}]\n"
        f"region = {settings.region}\n"
        f"endpoint_url = {settings.endpoint}\n"
        "request_checksum_calculation = when_required\n"
        "response_checksum_validation = when_required\n"
        "s3 =\n"
        "    addressing_style = path\n"
        "    signature_version = s3v4\n"
    )


def boto3_snippet(settings: ClientSettings) -> str:
    return f"""import boto3
from botocore.config import Config

s3 = boto3.client(
    "s3",
    endpoint_url={settings.endpoint!r},
    region_name={settings.region!r},
    aws_access_key_id={settings.access_key!r},
    aws_secret_access_key={settings.secret_key!r},
    config=Config(
        signature_version="s3v4",
        s3={{"addressing_style": "path"}},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    ),
)
# Another project's bucket is named "TENANT:bucket"; botocore rejects the colon unless:
# from botocore.handlers import validate_bucket_name
# s3.meta.events.unregister("before-parameter-build.s3", validate_bucket_name)
"""


def s3fs_options(settings: ClientSettings) -> dict[str, object]:
    return {
        "key": settings.access_key,
        "secret": settings.secret_key,
        "endpoint_url": settings.endpoint,
        "client_kwargs": {"region_name": settings.region},
        "config_kwargs": BOTO_CONFIG,
    }


def s3fs_json(settings: ClientSettings) -> str:
    # fsspec reads $FSSPEC_CONFIG_DIR/s3.json: fsspec.filesystem("s3") then needs no arguments.
    return json.dumps({"s3": s3fs_options(settings)}, indent=2) + "\n"


def s3fs_snippet(settings: ClientSettings) -> str:
    options = json.dumps(s3fs_options(settings), indent=4)
    return f"import s3fs\n\nfs = s3fs.S3FileSystem(**{options})\n"


def shell_exports(settings: ClientSettings) -> str:
    q = shlex.quote
    return (
        "# For boto3, s3fs and the aws CLI v1 (awscli 2.9 needs --endpoint-url on every command).\n"
        f"export AWS_ACCESS_KEY_ID={q(settings.access_key)}\n"
        f"export AWS_SECRET_ACCESS_KEY={q(settings.secret_key)}\n"
        f"export AWS_DEFAULT_REGION={q(settings.region)}\n"
        f"export AWS_ENDPOINT_URL={q(settings.endpoint)}\n"
        "export AWS_REQUEST_CHECKSUM_CALCULATION=when_required\n"
        "export AWS_RESPONSE_CHECKSUM_VALIDATION=when_required\n"
        "# rclone without a config file: use the remote :s3:, e.g. rclone lsd :s3:\n"
        "export RCLONE_S3_PROVIDER=Ceph RCLONE_S3_ENV_AUTH=true\n"
        f"export RCLONE_S3_ENDPOINT={q(settings.endpoint)} RCLONE_S3_REGION={q(settings.region)}\n"
    )


def mc_alias(settings: ClientSettings, *, alias: str) -> str:
    # MinIO client (https://min.io/docs/minio/linux/reference/minio-mc/mc-alias-set.html).
    q = shlex.quote
    return (
        f"mc alias set {q(alias)} {q(settings.endpoint)} {q(settings.access_key)} {q(settings.secret_key)} "
        "--api S3v4 --path on\n"
    )


@dataclass(frozen=True)
class SecretBundle:
    """What a person gets when a secret is shown (a new key, or a reveal): the same on the
    page and in the API."""

    access_key: str
    secret: str
    endpoint: str
    region: str
    configs: list[ConfigFile]


def scope_comment(scope: str) -> str:
    """The comment every file of a scoped key starts with ("" for a member's own key): what
    the key may do, and that listing buckets shows none (the key owns no bucket)."""
    if not scope or scope == "member":
        return ""
    what = "read-only, every bucket of the project" if scope == "read-only" else f"only the buckets {scope}"
    return (
        f"# Latchkey key scope: {what}.\n"
        "# Listing buckets shows none with this key: name the bucket (e.g. rclone ls REMOTE:BUCKET).\n"
    )


def _noted(content: str, note: str) -> str:
    """``note`` at the top, or under the section header of an INI file: a comment above the
    header would belong to whatever section comes before it once the text is added to a file."""
    first, _, rest = content.partition("\n")
    if first.startswith("[") and first.rstrip().endswith("]"):
        return f"{first}\n{note}{rest}"
    return note + content


def secret_bundle(*, access_key: str, secret: str, project_number: str, endpoint: str, scope: str = "") -> SecretBundle:
    """Every client's file for a key, with the cluster's region; a scoped key's files say its
    scope in a comment (JSON has none: s3.json goes without)."""
    region = storage.region()
    note = scope_comment(scope)
    configs = client_configs(
        ClientSettings(access_key, secret, endpoint, region, makes_buckets=not note), project_number=project_number
    )
    if note:
        configs = [c if c.filename.endswith(".json") else replace(c, content=_noted(c.content, note)) for c in configs]
    return SecretBundle(access_key=access_key, secret=secret, endpoint=endpoint, region=region, configs=configs)


CLIENTS = ("rclone", "s3cmd", "aws-credentials", "aws-config", "boto3", "s3fs-json", "s3fs-python", "shell", "mc")


def client_configs(settings: ClientSettings, *, project_number: str) -> list[ConfigFile]:
    """Every client's file for one key, in the order the page shows them."""
    name = remote_name(project_number)
    return [
        ConfigFile(
            "rclone",
            "rclone",
            "rclone.conf",
            "~/.config/rclone/rclone.conf, or the file RCLONE_CONFIG names",
            rclone_config(settings, remote=name),
            f"rclone lsd {name}:",
        ),
        ConfigFile(
            "s3cmd",
            "s3cmd",
            ".s3cfg",
            "~/.s3cfg, or the file S3CMD_CONFIG names (or s3cmd -c FILE)",
            s3cmd_config(settings),
            "s3cmd ls",
        ),
        ConfigFile(
            "aws-credentials",
            "aws CLI: credentials",
            "credentials",
            "~/.aws/credentials, or the file AWS_SHARED_CREDENTIALS_FILE names (add to an existing file)",
            aws_credentials(settings, profile=name),
            f"aws --profile {name} s3 ls",
        ),
        ConfigFile(
            "aws-config",
            "aws CLI: config",
            "config",
            "~/.aws/config, or the file AWS_CONFIG_FILE names (add to an existing file)",
            aws_config(settings, profile=name),
            f"aws --profile {name} s3 ls",
        ),
        ConfigFile(
            "boto3",
            "boto3 (Python)",
            "latchkey_s3.py",
            "your Python code",
            boto3_snippet(settings),
            "s3.list_buckets()",
        ),
        ConfigFile(
            "s3fs-json",
            "s3fs / fsspec: s3.json",
            "s3.json",
            "the folder FSSPEC_CONFIG_DIR names",
            s3fs_json(settings),
            'fsspec.filesystem("s3").ls("")',
        ),
        ConfigFile(
            "s3fs-python", "s3fs (Python)", "latchkey_s3fs.py", "your Python code", s3fs_snippet(settings), 'fs.ls("")'
        ),
        ConfigFile(
            "shell",
            "Shell environment",
            "latchkey.env",
            "source it: . latchkey.env",
            shell_exports(settings),
            "aws s3 ls",
        ),
        ConfigFile(
            "mc", "MinIO client (mc)", "mc-alias.sh", "run it once", mc_alias(settings, alias=name), f"mc ls {name}"
        ),
    ]
