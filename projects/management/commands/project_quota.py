from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from projects.models import Project
from projects.quota import GB, QuotaError, project_set_quota
from storage.client import StorageError


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise CommandError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise CommandError(f"cannot be negative: {value}")
    return value


class Command(BaseCommand):
    help = "Set a project's quota (applied in Ceph, which enforces it). 'none' removes a limit."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("number")
        parser.add_argument("--gb", required=True, help="quota in GB (10^9 bytes), or 'none'")
        parser.add_argument("--max-buckets")
        parser.add_argument("--max-objects")

    def handle(
        self, *args: Any, number: str, gb: str, max_buckets: str | None, max_objects: str | None, **options: Any
    ) -> None:
        project = Project.objects.filter(number=number).first()
        if project is None:
            raise CommandError(f"no project {number}")
        quota_bytes = None
        if gb.lower() != "none":
            try:
                amount = Decimal(gb)
            except InvalidOperation:
                raise CommandError(f"--gb: not a number: {gb!r}") from None
            if amount < 0 or not amount.is_finite():
                raise CommandError("--gb: the quota cannot be negative")
            quota_bytes = int(amount * GB)
        try:
            below = project_set_quota(
                project=project,
                quota_bytes=quota_bytes,
                max_objects=_non_negative_int(max_objects) if max_objects else None,
                max_buckets=_non_negative_int(max_buckets) if max_buckets else None,
            )
        except (QuotaError, StorageError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"project {number}: quota {gb} GB set")
        if below:
            self.stderr.write("warning: the quota is below the project's current use; uploads are refused")
