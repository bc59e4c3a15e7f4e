"""The part of the scale bench that really exists in Ceph: projects made through the services,
as people make them, so the reconciler, the usage refresh and the policy drift check have real
work. Each project: its Ceph user, a manager's subuser with two live keys, a member's subuser,
one bucket; every other bucket is restricted, with a grant letting the member in, so its policy
names members. bench/scale.py explains how many."""

from __future__ import annotations

from accounts.models import User
from buckets.grants import GrantRequest, grant_create
from buckets.models import Bucket
from buckets.services import bucket_create, bucket_set_members_access
from buckets.sync import policies_sync_dirty
from lifecycle.keys import key_create
from lifecycle.memberships import membership_provision
from projects.models import Membership, Project, Role
from projects.services import project_create


def ceph_projects(total: int, *, tag: str) -> int:
    """Add projects in Ceph until ``total`` are provisioned; returns how many were added."""
    have = Project.objects.filter(rgw_provisioned=True).count()
    for i in range(have, total):
        project = project_create(number=f"83{tag}{i:04d}", title=f"Ceph project {i}")
        manager, member = (
            Membership.objects.create(
                user=User.objects.create_user(username=f"ceph-{tag}-{i}-{role}"), project=project, role=role
            )
            for role in (Role.MANAGER, Role.MEMBER)
        )
        for k in range(2):
            key_create(membership=manager, hours=24, description=f"scale {k}")
        membership_provision(membership=member)
        bucket = bucket_create(membership=manager, name=f"scale-{i:04d}")
        if i % 2:
            bucket_set_members_access(bucket=bucket, members_access=Bucket.MembersAccess.NONE)
            grant_create(actor=manager.user, bucket=bucket, request=GrantRequest(kind="member", member_id=member.pk))
        policies_sync_dirty(project=project)  # what the worker does for a new bucket (its first policy)
    return max(0, total - have)
