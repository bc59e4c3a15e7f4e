"""Client configuration files for a key (facts: shared/design/client-configs.md)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClientSettings:
    access_key: str
    secret_key: str
    endpoint: str  # with scheme: rclone assumes https without one
    region: str  # the zonegroup's api_name; other values break bucket creation


def remote_name(project_number: str) -> str:
    return f"latchkey-{project_number}"


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
        "acl = bucket-owner-full-control\n"
    )
