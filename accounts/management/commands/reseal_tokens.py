"""After putting a new key first in LATCHKEY_TOKEN_KEYS: seal every stored token with it, so
the old key can be dropped. Tokens no configured key opens are reported, not touched."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from accounts.services import upstream_grants_reseal


class Command(BaseCommand):
    help = "Re-seal stored upstream refresh tokens with the first key of LATCHKEY_TOKEN_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        resealed, unreadable = upstream_grants_reseal()
        self.stdout.write(f"resealed={resealed} unreadable={unreadable}")
