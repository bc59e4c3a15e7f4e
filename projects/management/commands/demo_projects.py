from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from projects.models import Project
from projects.services import project_create

# The projects the test IdP's demo accounts hold entitlements for (idp/accounts.json).
DEMO_PROJECTS = [
    ("462000008", "Climate model ensemble runs (demo)"),
    ("462000009", "Genome assembly pipeline (demo)"),
    ("462000010", "Finnish language corpus (demo)"),
]


class Command(BaseCommand):
    help = "Create the demo projects used with the test identity provider (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        for number, title in DEMO_PROJECTS:
            if not Project.objects.filter(number=number).exists():
                project_create(number=number, title=title)
                self.stdout.write(f"demo project {number} created")
