"""The soak's cast: two fresh projects (their own tenants, so nothing else on the stack is
touched or counted), a manager and two members in the first, a manager and a member in the
second, each member provisioned in Ceph. Each project has an open bucket and a restricted one
(members denied unless granted), so every project has bucket policies for the users' grant
changes to rewrite and the checker to compare.

Sessions are made here, as the benches do (a Django session in the database for each person),
and the users then act only through gunicorn."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.test import Client

from accounts.models import User
from buckets.models import Bucket
from buckets.services import bucket_create, bucket_set_members_access
from lifecycle.memberships import membership_provision
from projects.models import Membership, Project, Role
from projects.services import storage_model_for_new

CAST = {0: [Role.MANAGER, Role.MEMBER, Role.MEMBER], 1: [Role.MANAGER, Role.MEMBER]}


@dataclass(frozen=True)
class Person:
    name: str
    project: str  # number
    manager: bool
    membership_id: int
    session: str  # the session cookie's value


@dataclass(frozen=True)
class World:
    people: list[Person]
    projects: list[Project]
    restricted: dict[str, str]  # project number -> its restricted bucket
    members: dict[str, list[int]]  # project number -> membership ids that can be granted


def world_create(run: str) -> World:
    people: list[Person] = []
    projects: list[Project] = []
    restricted: dict[str, str] = {}
    members: dict[str, list[int]] = {}
    for index, roles in CAST.items():
        tenant = f"soak{run}{index}"
        number = str(800000000000 + secrets.randbelow(10**11))
        # Both models where the cluster has accounts: the first project where new ones go
        # (LATCHKEY_STORAGE_MODEL), the second in a tenant, with grants between them.
        model = storage_model_for_new() if not projects else "tenant"
        project = Project.objects.create(number=number, title=f"soak {run} {index}", tenant=tenant, storage_model=model)
        projects.append(project)
        memberships = []
        for i, role in enumerate(roles):
            user = User.objects.create(username=f"soak-{run}-{index}-{i}", email=f"soak-{run}-{index}-{i}@example.org")
            membership = Membership.objects.create(user=user, project=project, role=role)
            membership_provision(membership=membership)
            memberships.append(membership)
            login = Client()
            login.force_login(user)
            people.append(
                Person(user.username, number, role == Role.MANAGER, membership.pk, login.cookies["sessionid"].value)
            )
        bucket_create(membership=memberships[0], name=f"open-{run}-{index}")
        closed = bucket_create(membership=memberships[0], name=f"closed-{run}-{index}")
        bucket_set_members_access(bucket=closed, members_access=Bucket.MembersAccess.NONE)
        restricted[number] = closed.name
        members[number] = [m.pk for m in memberships if m.role != Role.MANAGER]
    return World(people, projects, restricted, members)
