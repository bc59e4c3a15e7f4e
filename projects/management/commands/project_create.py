from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.errors import Unavailable
from projects.models import Project
from projects.services import project_create


class Command(BaseCommand):
    help = "Create a project (idempotent: an existing project with the same number is left as it is)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("number", help="project number, e.g. 462000008")
        parser.add_argument("title")
        parser.add_argument("--tenant", help="RGW tenant (default: the project number)")
        parser.add_argument(
            "--storage-model",
            choices=["tenant", "account"],
            help="an RGW tenant, or an RGW account (Ceph 19 and later); default: LATCHKEY_STORAGE_MODEL",
        )

    def handle(
        self, *args: Any, number: str, title: str, tenant: str | None, storage_model: str | None, **options: Any
    ) -> None:
        if Project.objects.filter(number=number).exists():
            self.stdout.write(f"project {number} exists")
            return
        try:
            project_create(number=number, title=title, tenant=tenant, storage_model=storage_model)
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from None
        except Unavailable as exc:  # LATCHKEY_STORAGE_MODEL=auto could not ask Ceph which it has
            raise CommandError(f"{exc}; or choose with --storage-model") from None
        self.stdout.write(f"project {number} created")
