from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from keys.expiry import key_set_expiry
from keys.models import AccessKey
from keys.services import KeyActionError


class Command(BaseCommand):
    help = (
        "Set when an S3 key ends, earlier or later (at most the project's longest key lifetime from now): "
        "for example, end a leaked key at a chosen time. The change is recorded in the key's history."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("access_key_id", help="the key's access key id (LK…)")
        when = parser.add_mutually_exclusive_group(required=True)
        when.add_argument(
            "--in", dest="seconds", type=int, metavar="SECONDS", help="end the key this many seconds from now"
        )
        when.add_argument(
            "--at", dest="at", metavar="TIME", help="end the key at this ISO 8601 time with its UTC offset"
        )

    def handle(self, *args: Any, access_key_id: str, seconds: int | None, at: str | None, **options: Any) -> None:
        key = AccessKey.objects.select_related("project").filter(access_key_id=access_key_id.strip()).first()
        if key is None:
            raise CommandError(f"No key has the id {access_key_id[:40]!r}.")
        now = timezone.now()
        if seconds is not None:
            if seconds < 1:
                raise CommandError("--in takes a whole number of seconds, 1 or more.")
            expires_at = now + timedelta(seconds=seconds)
        else:
            parsed = parse_datetime(at or "")
            if parsed is None or parsed.tzinfo is None:
                raise CommandError("--at takes an ISO 8601 time with its UTC offset, e.g. 2026-12-08T09:00:00+00:00.")
            expires_at = parsed
        try:
            key = key_set_expiry(key=key, expires_at=expires_at, now=now)
        except KeyActionError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{key.access_key_id}: ends {key.expires_at.isoformat()}")
