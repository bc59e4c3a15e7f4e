"""Import projects and memberships from an allocation file (JSON or CSV), idempotently.

JSON: ``[{"number", "title", "tenant"?, "quota_gb"?, "max_buckets"?, "max_objects"?,
"members"?: [{"email", "role"?}]}]``. CSV: header ``number,title,tenant,quota_gb,max_buckets,
max_objects,member_email,role``, one row per member (a row without member_email describes the
project only). The whole file is checked first and nothing is imported from a file with errors;
each error names its line (CSV) or entry (JSON). Members whose address a user holds verified
become members; other addresses get an invitation.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.functions import Lower

from projects.models import Invitation, Membership, Project, Role
from projects.quota import GB
from storage import homes
from storage.client import StorageError

NUMBER = re.compile(r"^[0-9]{3,20}$")
TENANT = re.compile(r"^[A-Za-z0-9_]{1,32}$")
CSV_COLUMNS = ["number", "title", "tenant", "quota_gb", "max_buckets", "max_objects", "member_email", "role"]


class AllocationError(Exception):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class Entry:
    where: str
    number: str
    title: str = ""
    tenant: str = ""
    quota_bytes: int | None = None
    max_buckets: int | None = None
    max_objects: int | None = None
    members: dict[str, Role] = field(default_factory=dict)


@dataclass
class ImportSummary:
    projects_created: int = 0
    projects_updated: int = 0
    members_added: int = 0
    invitations: int = 0


def _int(value: Any, name: str, where: str, errors: list[str]) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(str(value))
    except ValueError:
        errors.append(f"{where}: {name}: not a whole number ({value!r})")
        return None
    if number < 0:
        errors.append(f"{where}: {name}: cannot be negative")
        return None
    return number


def _quota(value: Any, where: str, errors: list[str]) -> int | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        errors.append(f"{where}: quota_gb: not a number ({value!r})")
        return None
    if not amount.is_finite() or amount < 0:
        errors.append(f"{where}: quota_gb: cannot be negative")
        return None
    return int(amount * GB)


def _rows(text: str, fmt: str, errors: list[str]) -> list[tuple[str, dict[str, Any]]]:
    if fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise AllocationError([f"line {exc.lineno}: invalid JSON: {exc.msg}"]) from None
        if not isinstance(data, list):
            raise AllocationError(["the file must hold a JSON list of projects"])
        rows = []
        for i, item in enumerate(data, start=1):
            if not isinstance(item, dict):
                errors.append(f"entry {i}: expected an object")
                continue
            members = item.get("members", [])
            if not isinstance(members, list) or not all(isinstance(m, dict) for m in members):
                errors.append(f"entry {i}: members: expected a list of objects")
                members = []
            base = {k: item.get(k) for k in CSV_COLUMNS[:6]}
            rows.append((f"entry {i}", {**base, "member_email": "", "role": ""}))
            rows += [(f"entry {i}", {**base, "member_email": m.get("email"), "role": m.get("role")}) for m in members]
        return rows
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("number", "title") if c not in (reader.fieldnames or [])]
    if missing:
        raise AllocationError([f"line 1: the header lacks {', '.join(missing)}"])
    unknown = [c for c in reader.fieldnames or [] if c not in CSV_COLUMNS]
    if unknown:
        raise AllocationError([f"line 1: unknown columns {', '.join(unknown)}"])
    return [(f"line {reader.line_num}", row) for row in reader]


def parse_allocations(text: str, fmt: str) -> list[Entry]:
    errors: list[str] = []
    entries: dict[str, Entry] = {}
    for where, row in _rows(text, fmt, errors):
        number = str(row.get("number") or "").strip()
        if not NUMBER.match(number):
            errors.append(f"{where}: number: digits only, e.g. 462000008 (got {number!r})")
            continue
        entry = entries.setdefault(number, Entry(where=where, number=number))
        title, tenant = str(row.get("title") or "").strip(), str(row.get("tenant") or "").strip()
        if len(title) > 200:
            errors.append(f"{where}: title: at most 200 characters")
        for name, value, current in (("title", title, entry.title), ("tenant", tenant, entry.tenant)):
            if value and current and value != current:
                errors.append(f"{where}: {name}: {value!r} differs from {current!r} given earlier for {number}")
        entry.title, entry.tenant = entry.title or title, entry.tenant or tenant
        if tenant and not TENANT.match(tenant):
            errors.append(f"{where}: tenant: letters, digits and '_' only (got {tenant!r})")
        quota = _quota(row.get("quota_gb"), where, errors)
        buckets = _int(row.get("max_buckets"), "max_buckets", where, errors)
        objects = _int(row.get("max_objects"), "max_objects", where, errors)
        entry.quota_bytes = quota if quota is not None else entry.quota_bytes
        entry.max_buckets = buckets if buckets is not None else entry.max_buckets
        entry.max_objects = objects if objects is not None else entry.max_objects
        email = str(row.get("member_email") or "").strip().lower()
        if email:
            try:
                validate_email(email)
            except ValidationError:
                errors.append(f"{where}: member_email: not an e-mail address ({email!r})")
                continue
            role = str(row.get("role") or Role.MEMBER.value).strip()
            if role not in Role.values:
                errors.append(f"{where}: role: one of {', '.join(Role.values)} (got {role!r})")
                continue
            entry.members[email] = Role(role)
    existing = {p.number: p for p in Project.objects.filter(number__in=entries)}
    for entry in entries.values():
        project = existing.get(entry.number)
        if project is None and not entry.title:
            errors.append(f"{entry.where}: title: required for the new project {entry.number}")
        if project is not None and entry.tenant and entry.tenant != project.tenant:
            errors.append(f"{entry.where}: tenant: project {entry.number} already has tenant {project.tenant}")
        tenant = entry.tenant or (project.tenant if project else entry.number)
        clash = Project.objects.filter(tenant=tenant).exclude(number=entry.number).first()
        if clash is not None:
            errors.append(f"{entry.where}: tenant: {tenant} is already used by project {clash.number}")
    if errors:
        raise AllocationError(errors)
    return list(entries.values())


def _wanted(entry: Entry, project: Project | None) -> tuple[int | None, int | None, int | None]:
    """The quota after the import; a value the file leaves out stays as it is."""
    current = (project.quota_bytes, project.quota_max_objects, project.quota_max_buckets) if project else (None,) * 3
    given = (entry.quota_bytes, entry.max_objects, entry.max_buckets)
    return tuple(g if g is not None else c for g, c in zip(given, current, strict=True))  # type: ignore[return-value]


def import_allocations(entries: list[Entry]) -> ImportSummary:
    """Apply parsed entries. Quota changes go to Ceph first and are undone if one fails, then
    every database write happens in one transaction: Ceph and the database agree either way."""
    from allauth.account.models import EmailAddress

    existing = {p.number: p for p in Project.objects.filter(number__in=[e.number for e in entries])}
    applied: list[tuple[Project, tuple[int | None, int | None, int | None]]] = []
    try:
        # Where new projects go ("auto" asks Ceph): asked before anything is written.
        new_in = (
            homes.model_for_new(settings.LATCHKEY_STORAGE_MODEL) if {e.number for e in entries} - set(existing) else ""
        )
        for entry in entries:
            project = existing.get(entry.number)
            wanted = _wanted(entry, project)
            if (
                project
                and project.rgw_provisioned
                and wanted != (project.quota_bytes, project.quota_max_objects, project.quota_max_buckets)
            ):
                homes.quota_set(project.home, max_bytes=wanted[0], max_objects=wanted[1], max_buckets=wanted[2])
                applied.append((project, (project.quota_bytes, project.quota_max_objects, project.quota_max_buckets)))
    except StorageError as exc:
        for project, (size, objects, buckets) in applied:
            homes.quota_set(project.home, max_bytes=size, max_objects=objects, max_buckets=buckets)
        raise AllocationError([f"the storage service failed ({exc}); nothing was imported"]) from None

    summary = ImportSummary()
    emails = {email for entry in entries for email in entry.members}
    holders = {  # one query for every address in the file
        address.email.lower(): address.user
        for address in EmailAddress.objects.annotate(lower=Lower("email"))
        .filter(lower__in=emails, verified=True)
        .select_related("user")
    }
    pending = set(Invitation.objects.filter(email__in=emails, status="pending").values_list("project__number", "email"))
    with transaction.atomic():
        for entry in entries:
            project = existing.get(entry.number)
            wanted = _wanted(entry, project)
            if project is None:
                project = Project(
                    number=entry.number,
                    title=entry.title,
                    tenant=entry.tenant or entry.number,
                    storage_model=new_in,
                )
                summary.projects_created += 1
            elif (entry.title and entry.title != project.title) or wanted != (
                project.quota_bytes,
                project.quota_max_objects,
                project.quota_max_buckets,
            ):
                summary.projects_updated += 1
            project.title = entry.title or project.title
            project.quota_bytes, project.quota_max_objects, project.quota_max_buckets = wanted
            project.save()
            for email, role in entry.members.items():
                holder = holders.get(email)
                if holder is not None:
                    _, created = Membership.objects.get_or_create(
                        user=holder, project=project, defaults={"role": role, "source": "latchkey"}
                    )
                    summary.members_added += created
                elif (project.number, email) not in pending:
                    Invitation.objects.create(project=project, email=email, role=role)
                    summary.invitations += 1
    return summary
