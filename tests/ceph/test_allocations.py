"""Importing allocation files: idempotent, all-or-nothing, line-numbered errors, Ceph in step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from lifecycle.keys import key_create
from projects.models import Invitation, Membership, Project, Role
from storage import client as storage

pytestmark = [pytest.mark.django_db]


def _verified(user, email: str):  # type: ignore[no-untyped-def]
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_import_creates_projects_members_and_invitations_and_is_idempotent(tmp_path, make_user, unique) -> None:  # type: ignore[no-untyped-def]
    a, b = unique(), unique()
    alice = _verified(make_user("alice"), "Alice@Example.org")  # the file's case need not match
    path = _write(
        tmp_path,
        "alloc.csv",
        "\n".join(
            [
                "number,title,tenant,quota_gb,max_buckets,max_objects,member_email,role",
                f"{a},Climate runs,t{a},1.5,10,,alice@example.org,manager",
                f"{a},,,,,,newcomer@example.org,member",
                f"{b},Genomes,,,,,,",
            ]
        ),
    )
    call_command("import_allocations", str(path))
    project = Project.objects.get(number=a)
    assert (project.title, project.tenant, project.quota_bytes, project.quota_max_buckets) == (
        "Climate runs",
        f"t{a}",
        1_500_000_000,
        10,
    )
    assert Project.objects.get(number=b).tenant == b
    assert Membership.objects.get(user=alice, project=project).role == Role.MANAGER
    assert Invitation.objects.get().email == "newcomer@example.org"

    call_command("import_allocations", str(path))  # again: nothing new
    assert Project.objects.filter(number__in=[a, b]).count() == 2
    assert Membership.objects.filter(project=project).count() == 1 and Invitation.objects.count() == 1


def test_json_import_leaves_unmentioned_quota_alone(tmp_path, unique) -> None:  # type: ignore[no-untyped-def]
    a = unique()
    Project.objects.create(number=a, title="Old", tenant=f"t{a}", quota_bytes=5 * 10**9)
    path = _write(tmp_path, "alloc.json", json.dumps([{"number": a, "title": "New title", "members": []}]))
    call_command("import_allocations", str(path))
    project = Project.objects.get(number=a)
    assert (project.title, project.quota_bytes) == ("New title", 5 * 10**9)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("a.csv", "number,title\n12x,Bad\n", ["line 2: number: digits only"]),
        (
            "a.csv",
            "number,title,quota_gb\n123456,A,-1\n123457,B,lots\n",
            ["line 2: quota_gb: cannot be negative", "line 3: quota_gb: not a number"],
        ),
        (
            "a.csv",
            "number,title,member_email,role\n123456,A,nobody,member\n123456,A,x@example.org,king\n",
            ["line 2: member_email: not an e-mail address", "line 3: role: one of"],
        ),
        ("a.csv", "number,title,tenant\n123456,A,bad-tenant\n", ["line 2: tenant: letters, digits"]),
        ("a.csv", "number,title\n123456,A\n123456,B\n", ["line 3: title: 'B' differs from 'A'"]),
        ("a.csv", "number,colour\n1,red\n", ["line 1: the header lacks title"]),
        ("a.csv", "number,title\n123456,\n", ["line 2: title: required for the new project"]),
        ("a.json", '[{"number": "123456", "title": "A"},\n  {"number": 5}', ["line 2: invalid JSON"]),
        ("a.json", '{"number": "1"}', ["must hold a JSON list"]),
        ("a.json", '[{"number": "123456", "title": "A", "members": "all"}]', ["entry 1: members: expected a list"]),
    ],
)
def test_a_file_with_errors_imports_nothing(tmp_path, name: str, text: str, expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    good = "123999" if name.endswith(".csv") else None
    if good and text.startswith("number,title\n"):
        text = text + f"{good},Valid row\n"  # a valid row alongside does not get imported either
    path = _write(tmp_path, name, text)
    with pytest.raises(CommandError) as info:
        call_command("import_allocations", str(path))
    message = str(info.value)
    assert "nothing was imported" in message
    for fragment in expected:
        assert fragment in message
    assert not Project.objects.exists() and not Invitation.objects.exists()


def test_unreadable_or_unknown_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_allocations", str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError, match="cannot tell the format"):
        call_command("import_allocations", str(_write(tmp_path, "alloc.txt", "x")))


def test_tenant_of_another_project_is_refused(tmp_path, unique) -> None:  # type: ignore[no-untyped-def]
    a = unique()
    Project.objects.create(number=a, title="A", tenant="shared_t")
    path = _write(tmp_path, "a.csv", f"number,title,tenant\n{unique()},B,shared_t\n")
    with pytest.raises(CommandError, match="shared_t is already used by project"):
        call_command("import_allocations", str(path))


@pytest.mark.ceph
def test_quota_reaches_ceph_and_a_ceph_failure_imports_nothing(tmp_path, project, member_of, settings) -> None:  # type: ignore[no-untyped-def]
    key_create(membership=member_of(project), hours=1, description="provision")
    path = _write(tmp_path, "a.csv", f"number,title,quota_gb\n{project.number},{project.title},0.002\n")
    call_command("import_allocations", str(path))
    assert storage._client().get_user(uid=storage.uid(project.tenant))["user_quota"]["max_size_kb"] == 1954

    path = _write(tmp_path, "b.csv", f"number,title,quota_gb\n{project.number},Renamed,0.5\n")
    settings.LATCHKEY_RGW_ADMIN_URL = "http://127.0.0.1:9"
    with pytest.raises(CommandError, match="storage service failed"):
        call_command("import_allocations", str(path))
    title = project.title
    project.refresh_from_db()
    assert (project.title, project.quota_bytes) == (title, 2_000_000)
