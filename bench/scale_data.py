"""Rows for the scale bench (bench/scale.py): a PostgreSQL database that looks like a site with
10,000 projects, 20,000 users, 100,000 keys and 5,000 buckets, written with COPY.

Two parts, kept apart so the bench can grow one and not the other:
- the background (``fill_background``): projects with tenants, quotas and usage, users, 3 to 5
  memberships per project in every role, keys (one in ten live, the rest expired, deleted or
  revoked, with their audit events), buckets (some restricted or shared, with member, group,
  project and public grants), groups, pending invitations and join requests. Each call adds rows
  until the background holds the ``Size`` asked for, so the bench fills 1/100 and then grows.
- the measured part (``fill_measured``): one user in 200 projects, one of which (the measured
  project, the user manages it) has a full page of keys, audit events, members and buckets,
  and an operator for the admin pages. It is the same whatever the background's size, so a
  page's cost can only grow with the size of the tables around it.

Background projects are recorded as not provisioned in Ceph: the periodic jobs (reconcile, usage
refresh, policy check) then reach Ceph only for the projects the bench really creates there, yet
their queries still run against full tables. Background live keys expire days from now, so the
expiry sweep finds nothing of theirs to do (it would call Ceph). PostgreSQL only (COPY).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Model

from accounts.models import User
from buckets.models import Bucket, Grant, Group
from keys.models import AccessKey, KeyEvent
from projects.models import ROLE_ACCESS, Invitation, JoinRequest, Membership, Project, Role

BACKGROUND = "81"  # project numbers of the background; usernames start with "bg-"
MEASURED = "82"  # the measured part's projects


@dataclass(frozen=True)
class Size:
    projects: int
    users: int
    keys: int
    buckets: int

    def scaled(self, factor: float) -> Size:
        return Size(*(round(n * factor) for n in (self.projects, self.users, self.keys, self.buckets)))


FULL = Size(projects=10_000, users=20_000, keys=100_000, buckets=5_000)


@dataclass(frozen=True)
class Measured:
    user: User  # a member of every measured project
    admin: User  # an operator (superuser), for the Django admin's lists
    project: Project  # the measured project: the user manages it


def copy_rows(model: type[Model], rows: Sequence[dict[str, Any]]) -> None:
    """COPY ``rows`` (field name -> value) into ``model``'s table."""
    if not rows:
        return
    names = list(rows[0])
    quote = connection.ops.quote_name
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in names)  # type: ignore[union-attr]
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row([json.dumps(v) if isinstance(v, list) else v for v in row.values()])


def _ids(model: type[Model], n: int) -> list[int]:
    """``n`` primary keys taken from the table's own sequence, so later inserts never collide."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [model._meta.db_table, n]
        )
        return [row[0] for row in cursor.fetchall()]


def _key_id(label: str) -> str:
    return "LK" + hashlib.blake2b(label.encode(), digest_size=12).hexdigest()[:18].upper()


def _ip(n: int) -> str:
    return f"10.{n % 200}.{n // 200 % 250}.{n % 250 + 1}"


def _users(names: Iterable[str], now: datetime, **extra: Any) -> list[dict[str, Any]]:
    names = list(names)
    rows = [
        {
            "id": pk,
            "username": name,
            "email": f"{name}@example.org",
            "first_name": name.title(),
            "last_name": "Scale",
            "password": "!",
            "rgw_name": name.replace("-", "_"),
            "is_active": True,
            "is_staff": False,
            "is_superuser": False,
            "date_joined": now - timedelta(days=len(name)),
            **extra,
        }
        for pk, name in zip(_ids(User, len(names)), names, strict=True)
    ]
    copy_rows(User, rows)
    return rows


def _projects(numbers: Sequence[str], now: datetime) -> list[dict[str, Any]]:
    rows = []
    for n, (pk, number) in enumerate(zip(_ids(Project, len(numbers)), numbers, strict=True)):
        quota = 10**12 * (1 + n % 10)
        rows.append(
            {
                "id": pk,
                "number": number,
                "title": f"Project {number}",
                "tenant": number,
                "status": Project.Status.SUSPENDED if n % 50 == 49 else Project.Status.ACTIVE,
                "asserting_providers": "myaccessid" if n % 4 == 0 else "",
                "rgw_provisioned": False,
                "storage_model": "tenant",
                "rgw_account": "",
                "max_key_hours": 72 if n % 5 == 0 else None,
                "quota_bytes": quota,
                "quota_max_objects": None,
                "quota_max_buckets": 100 if n % 3 == 0 else None,
                "usage_bytes": quota * (n % 97) // 100,
                "usage_objects": 1000 * (n % 89),
                "usage_at": now - timedelta(minutes=n % 10),
                "created_at": now - timedelta(days=n % 1500),
            }
        )
    copy_rows(Project, rows)
    return rows


def _membership(pk: int, user: int, project: int, role: Role, n: int, now: datetime) -> dict[str, Any]:
    return {
        "id": pk,
        "user": user,
        "project": project,
        "role": role,
        "status": Membership.Status.ACTIVE,
        "source": "idp:myaccessid" if n % 2 else "latchkey",
        "rgw_access": ROLE_ACCESS[role],
        "created_at": now - timedelta(days=n % 700),
        "updated_at": now - timedelta(days=n % 30),
    }


def _key(pk: int, n: int, *, project: int, owner: dict[str, Any], now: datetime, live: bool) -> dict[str, Any]:
    """Key number ``n``: live ones expire days from now; ended ones are spread over a year."""
    created = now - (timedelta(hours=1 + n % 100) if live else timedelta(days=1 + n % 365, minutes=n % 1440))
    hours = (1, 8, 24, 72, 168)[n % 5]
    row = {
        "id": pk,
        "access_key_id": _key_id(f"{owner['username']}-{n}"),
        "project": project,
        "owner": owner["id"],
        "subuser": owner["rgw_name"],
        "description": f"{('laptop', 'cluster job', 'rclone sync')[n % 3]} {n}",
        "status": AccessKey.Status.ACTIVE,
        "created_at": created,
        "expires_at": created + timedelta(hours=hours),
        "ended_at": None,
        "refused_at": None,
        "end_reason": "",
        "last_extended_at": None,
        "expiry_job_for": None,
        "reminded_hours": None,
        "scope": AccessKey.Scope.MEMBER,
        "scope_writes": True,
        "rgw_user": "",
    }
    if n % 25 == 0:  # some read-only scoped keys: their own users, no subuser
        row.update(scope=AccessKey.Scope.READ_ONLY, scope_writes=False, subuser="")
        row["rgw_user"] = "k" + str(row["access_key_id"]).lower()
    if live:
        row["expires_at"] = now + timedelta(days=1 + n % 6, minutes=n % 1440)
    elif n % 10 < 7:
        ended = row["expires_at"]
        row.update(status=AccessKey.Status.EXPIRED, end_reason="expired", expiry_job_for=ended, reminded_hours=1)
        row.update(ended_at=ended, refused_at=ended + timedelta(seconds=1))
    else:
        reason = "deleted by owner" if n % 10 < 9 else "membership ended"
        row.update(status=AccessKey.Status.REVOKED, end_reason=reason, ended_at=created + timedelta(minutes=30))
    if n % 3 == 0:
        row["last_extended_at"] = created + timedelta(minutes=20)
    return row


def _events(key: dict[str, Any], n: int) -> list[dict[str, Any]]:
    """What the services record for such a key: create, perhaps extend, then how it ended."""
    base = {"key": key["id"], "project": key["project"], "ip": _ip(n)}
    events = [
        {**base, "at": key["created_at"], "action": KeyEvent.Action.CREATE, "actor": key["owner"], "detail": "24 h"}
    ]
    if key["last_extended_at"]:
        events.append(
            {
                **base,
                "at": key["last_extended_at"],
                "action": KeyEvent.Action.EXTEND,
                "actor": key["owner"],
                "detail": "24 h",
            }
        )
    if key["end_reason"]:
        action = {"expired": KeyEvent.Action.EXPIRE, "deleted by owner": KeyEvent.Action.DELETE}.get(
            key["end_reason"], KeyEvent.Action.REVOKE
        )
        actor = key["owner"] if action == KeyEvent.Action.DELETE else None
        events.append(
            {
                **base,
                "at": key["ended_at"],
                "action": action,
                "actor": actor,
                "detail": key["end_reason"],
                "ip": _ip(n) if actor else None,
            }
        )
    return events


def _keys(specs: Sequence[tuple[int, dict[str, Any], bool]], start: int, now: datetime) -> None:
    """Keys from (project id, owner row, live) with their audit events."""
    keys = [
        _key(pk, start + i, project=project, owner=owner, now=now, live=live)
        for i, (pk, (project, owner, live)) in enumerate(zip(_ids(AccessKey, len(specs)), specs, strict=True))
    ]
    copy_rows(AccessKey, keys)
    copy_rows(KeyEvent, [event for i, key in enumerate(keys) for event in _events(key, start + i)])


Other = tuple[int, dict[str, Any]]  # another project's id and a user row of one of its members


def _buckets(specs: Sequence[tuple[dict[str, Any], list[dict[str, Any]], Other]], start: int, now: datetime) -> None:
    """Buckets from (project row, its membership rows, another project), with the grants and
    groups their rule implies: one in ten restricted (a member and a group let in), one in twenty
    read-only for members, one in seven shared with the other project, one in seven with one of
    its users, one in fifty public."""
    buckets, groups, group_members, grants = [], [], [], []
    group_ids = iter(_ids(Group, sum(1 for i in range(len(specs)) if (start + i) % 10 == 0)))
    for i, (pk, (project, members, other)) in enumerate(zip(_ids(Bucket, len(specs)), specs, strict=True)):
        n = start + i
        rule = "none" if n % 10 == 0 else "read" if n % 20 == 5 else "readwrite"
        buckets.append(
            {
                "id": pk,
                "project": project["id"],
                "name": f"data-{n:05d}",
                "size_bytes": 10**9 * (n % 500),
                "object_count": 1000 * (n % 300),
                "created_at": now - timedelta(days=n % 900),
                "members_access": rule,
                "policy_dirty": False,
                "policy_synced_at": now,
                "policy_left_out": [],
                "drop_people_statements": False,
            }
        )
        grant = {
            "bucket": pk,
            "cidrs": [],
            "expires_at": None,
            "created_by": members[0]["user"],
            "created_at": now,
            "member": None,
            "group": None,
            "grantee_project": None,
            "grantee_user": None,
            "grantee_subuser": "",
        }
        if rule == "none":
            group = next(group_ids)
            groups.append({"id": group, "project": project["id"], "name": f"team-{n}", "created_at": now})
            group_members += [{"group": group, "membership": m["id"]} for m in members[1:3]]
            grants.append({**grant, "kind": Grant.Kind.MEMBER, "access": "readwrite", "member": members[-1]["id"]})
            grants.append({**grant, "kind": Grant.Kind.GROUP, "access": "read", "group": group})
        if n % 7 == 0:
            grants.append(
                {
                    **grant,
                    "kind": Grant.Kind.PROJECT,
                    "access": "read",
                    "grantee_project": other[0],
                    "expires_at": now + timedelta(days=30),
                    "cidrs": ["192.0.2.0/24"],
                }
            )
        if n % 7 == 3:
            grants.append(
                {
                    **grant,
                    "kind": Grant.Kind.PROJECT_USER,
                    "access": "readwrite",
                    "grantee_project": other[0],
                    "grantee_user": other[1]["id"],
                    "grantee_subuser": other[1]["rgw_name"],
                }
            )
        if n % 50 == 3:
            grants.append({**grant, "kind": Grant.Kind.PUBLIC, "access": "read"})
    copy_rows(Bucket, buckets)
    copy_rows(Group, groups)
    copy_rows(Group.members.through, group_members)
    copy_rows(Grant, grants)


def background_size() -> Size:
    projects = Project.objects.filter(number__startswith=BACKGROUND)
    return Size(
        projects=projects.count(),
        users=User.objects.filter(username__startswith="bg-").count(),
        keys=AccessKey.objects.filter(project__in=projects).count(),
        buckets=Bucket.objects.filter(project__in=projects).count(),
    )


def fill_background(target: Size, *, now: datetime) -> Size:
    """Add background rows until it holds ``target``; returns what was added. The new keys and
    buckets belong to the new projects, whose members are the new users."""
    have = background_size()
    add = Size(*(max(0, t - h) for t, h in zip(vars(target).values(), vars(have).values(), strict=True)))
    if (add.keys or add.buckets) and not (add.projects and add.users):
        raise ValueError("new keys and buckets need new projects and users")
    if not add.projects:
        return add
    projects = _projects([f"{BACKGROUND}{have.projects + i:08d}" for i in range(add.projects)], now)
    users = _users((f"bg-{have.users + i:06d}" for i in range(add.users)), now, last_login=now - timedelta(days=2))
    members: list[list[dict[str, Any]]] = []
    membership_ids = iter(
        _ids(Membership, sum(min(3 + (have.projects + j) % 3, len(users)) for j in range(len(projects))))
    )
    for j, project in enumerate(projects):
        n = have.projects + j
        roles = [Role.MANAGER, Role.DEPUTY if n % 2 else Role.MEMBER, Role.MEMBER, Role.READ_ONLY, Role.MEMBER]
        picked = [users[(2 * j + k) % len(users)] for k in range(min(3 + n % 3, len(users)))]
        members.append(
            [
                _membership(next(membership_ids), u["id"], project["id"], roles[k], n + k, now)
                for k, u in enumerate(picked)
            ]
        )
    copy_rows(Membership, [m for group in members for m in group])
    by_id = {u["id"]: u for u in users}
    keys = []
    for i in range(add.keys):
        j, n = i % len(projects), have.keys + i
        owner = by_id[members[j][(i // len(projects)) % len(members[j])]["user"]]
        keys.append((projects[j]["id"], owner, n % 10 == 0))
    _keys(keys, have.keys, now)
    # Every other project holds a bucket (more when there are more buckets than that), shared
    # with the next project when its rule says so.
    at = [(2 * b) % len(projects) for b in range(add.buckets)]
    nxt = [(j + 1) % len(projects) for j in at]
    spread = [
        (projects[j], members[j], (projects[k]["id"], by_id[members[k][0]["user"]]))
        for j, k in zip(at, nxt, strict=True)
    ]
    _buckets(spread, have.buckets, now)
    copy_rows(
        Invitation,
        [
            {
                "project": p["id"],
                "email": f"newcomer-{p['number']}@example.org",
                "role": Role.MEMBER,
                "invited_by": members[j][0]["user"],
                "status": Invitation.Status.PENDING,
                "created_at": now,
            }
            for j, p in enumerate(projects)
            if j % 20 == 0
        ],
    )
    copy_rows(
        JoinRequest,
        [
            {
                "project": p["id"],
                "user": users[(2 * j + 5) % len(users)]["id"],
                "reason": "my thesis data",
                "status": JoinRequest.Status.PENDING,
                "created_at": now,
                "decided_by": None,
                "decided_at": None,
            }
            for j, p in enumerate(projects)
            if j % 25 == 0
        ],
    )
    return add


def fill_measured(*, projects: int = 200, now: datetime) -> Measured:
    """The measured user in ``projects`` projects (the first one, the measured project, with 21
    members, 308 keys, about 700 audit events and 8 buckets; the others with one more member
    and two keys each), and an operator."""
    if projects < 2:
        raise ValueError("the measured project shares buckets with a second one")
    admin, user, *pool = _users(["scale-admin", "scale-measured", *(f"ms-{i:02d}" for i in range(20))], now)
    User.objects.filter(pk=admin["id"]).update(is_staff=True, is_superuser=True)
    rows = _projects([f"{MEASURED}{i:08d}" for i in range(projects)], now)
    cycle = (Role.MANAGER, Role.DEPUTY, Role.MEMBER, Role.MEMBER, Role.READ_ONLY)
    team = [(user, Role.MANAGER), *((m, Role.DEPUTY if k == 0 else cycle[2 + k % 3]) for k, m in enumerate(pool))]
    ids = iter(_ids(Membership, len(team) + 2 * (projects - 1)))
    members = [_membership(next(ids), u["id"], rows[0]["id"], role, k, now) for k, (u, role) in enumerate(team)]
    keys = [(rows[0]["id"], user, k < 8) for k in range(48)]
    keys += [(rows[0]["id"], m, k % 13 == 0) for m in pool for k in range(13)]
    for i, project in enumerate(rows[1:], start=1):
        role = cycle[i % 5]
        other = pool[i % len(pool)]
        members.append(_membership(next(ids), user["id"], project["id"], role, i, now))
        other_role = Role.MEMBER if role == Role.MANAGER else Role.MANAGER  # each project has a manager
        members.append(_membership(next(ids), other["id"], project["id"], other_role, i, now))
        keys += [(project["id"], user, i % 2 == 1), (project["id"], other, False)]
    copy_rows(Membership, members)
    _keys(keys, 0, now)
    other = (rows[1]["id"], pool[1])  # the manager of the second measured project
    _buckets([(rows[0], members[: len(team)], other) for _ in range(8)], 0, now)
    copy_rows(
        Invitation,
        [
            {
                "project": rows[0]["id"],
                "email": "newcomer@example.org",
                "role": Role.MEMBER,
                "invited_by": user["id"],
                "status": Invitation.Status.PENDING,
                "created_at": now,
            }
        ],
    )
    return Measured(
        user=User.objects.get(pk=user["id"]),
        admin=User.objects.get(pk=admin["id"]),
        project=Project.objects.get(pk=rows[0]["id"]),
    )
