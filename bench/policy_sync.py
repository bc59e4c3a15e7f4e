"""policy_sync_s: a project with 200 restricted buckets, each granting one group access; a
member is added to the group; time until every bucket's policy in Ceph names them (the group
service marks the buckets, then the sync task's body writes them, as the worker would).

Run by bench/run.sh with the bench env loaded; prints name=value lines on stdout.
"""

from __future__ import annotations

import os
import secrets
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django.setup()

from harness import err  # noqa: E402

from accounts.models import User  # noqa: E402
from buckets.grants import GrantRequest, grant_create  # noqa: E402
from buckets.groups import group_create, group_set_members  # noqa: E402
from buckets.models import Bucket  # noqa: E402
from buckets.services import bucket_create, bucket_set_members_access  # noqa: E402
from buckets.sync import policies_sync_dirty  # noqa: E402
from lifecycle.memberships import membership_provision  # noqa: E402
from projects.models import Membership, Project, Role  # noqa: E402
from storage import client as storage  # noqa: E402

BUCKETS = int(os.environ.get("BENCH_BUCKETS", "200"))


def main() -> None:
    tag = secrets.token_hex(4)
    project = Project.objects.create(number=f"7{secrets.randbelow(10**9):09d}", title="policy bench", tenant=f"pb{tag}")
    manager = Membership.objects.create(
        user=User.objects.create_user(username=f"pm-{tag}"), project=project, role=Role.MANAGER
    )
    newcomer = Membership.objects.create(
        user=User.objects.create_user(username=f"pn-{tag}"), project=project, role=Role.MEMBER
    )
    membership_provision(membership=newcomer)
    group = group_create(project=project, name="bench")
    err(f"policy_sync: creating {BUCKETS} restricted buckets with a group grant")
    for n in range(BUCKETS):
        bucket = bucket_create(membership=manager, name=f"bench-{n:04d}")
        bucket_set_members_access(bucket=bucket, members_access=Bucket.MembersAccess.NONE)
        grant_create(
            actor=manager.user, bucket=bucket, request=GrantRequest(kind="group", access="readwrite", group_id=group.pk)
        )
    started = time.perf_counter()
    affected = group_set_members(group=group, membership_ids=[newcomer.pk])
    result = policies_sync_dirty(project=project)
    elapsed = time.perf_counter() - started
    assert affected == BUCKETS and result["written"] == BUCKETS, (affected, result)
    # Proof, not just timing: every policy now lets the newcomer in (no Deny names them).
    name = newcomer.user.rgw_name or ""
    for bucket in Bucket.objects.filter(project=project):
        policy = storage.bucket_policy_get(tenant=project.tenant, name=bucket.name) or {}
        assert not any(name in str(s.get("Principal")) for s in policy.get("Statement", [])), bucket.name
    print(f"policy_sync_buckets={BUCKETS}")
    print(f"policy_sync_s={elapsed:.2f}")
    print(f"policy_sync_per_bucket_ms={1000 * elapsed / BUCKETS:.1f}")


if __name__ == "__main__":
    main()
