from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from portal.errors import Unavailable
from projects.models import Project
from projects.services import project_create

# The projects the test IdP's demo accounts hold entitlements for (idp/accounts.json).
DEMO_PROJECTS = [
    ("462000008", "Climate model ensemble runs (demo)"),
    ("462000009", "Genome assembly pipeline (demo)"),
    ("462000010", "Finnish language corpus (demo)"),
]
# The demo's operator (README, "Demo accounts"): operators are the people the Django admin lets in,
# and on a real site they log in through their provider and are made staff by another operator.
# This one has a password of the demo's own, so it exists only where LATCHKEY_DEBUG is set.
DEMO_OPERATOR = ("operator", "operator-pass")


class Command(BaseCommand):
    help = "Create the demo projects used with the test identity provider, and the demo operator (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        for number, title in DEMO_PROJECTS:
            if not Project.objects.filter(number=number).exists():
                try:
                    project_create(number=number, title=title)
                except Unavailable as exc:  # "auto" could not ask Ceph which model it has
                    raise CommandError(str(exc)) from None
                self.stdout.write(f"demo project {number} created")
        username, password = DEMO_OPERATOR
        users = get_user_model()
        if not settings.DEBUG:
            # A database that once ran the demo keeps no account anyone can log in to.
            for user in users.objects.filter(username=username):
                if user.check_password(password):
                    user.set_unusable_password()
                    user.save(update_fields=["password"])
                    self.stdout.write(f"demo operator {username!r}: its known password no longer works")
            self.stdout.write("no demo operator: LATCHKEY_DEBUG is not set (a known password has no place on a site)")
            return
        if not users.objects.filter(username=username).exists():
            users.objects.create_superuser(username=username, email="operator@example.org", password=password)
            self.stdout.write(f"demo operator {username!r} created: log in at /admin/login/, then open /operators/")
