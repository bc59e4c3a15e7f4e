from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from projects.allocations import AllocationError, import_allocations, parse_allocations


class Command(BaseCommand):
    help = "Import projects, quotas and members from a JSON or CSV allocation file (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--format", choices=["json", "csv"], help="default: from the file name")

    def handle(self, *args: Any, file: Path, format: str | None, **options: Any) -> None:
        fmt = format or ("json" if file.suffix.lower() == ".json" else "csv" if file.suffix.lower() == ".csv" else "")
        if not fmt:
            raise CommandError("cannot tell the format from the file name; give --format json or --format csv")
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {file}: {exc}") from None
        try:
            summary = import_allocations(parse_allocations(text, fmt))
        except AllocationError as exc:
            raise CommandError(f"{file}: nothing was imported:\n" + "\n".join(exc.errors)) from None
        self.stdout.write(
            f"projects created={summary.projects_created} updated={summary.projects_updated} "
            f"members added={summary.members_added} invitations={summary.invitations}"
        )
