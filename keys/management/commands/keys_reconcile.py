from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from keys.reconcile import keys_reconcile


class Command(BaseCommand):
    help = "Compare the S3 keys in Ceph with Latchkey's records and report the differences."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--remove-unknown", action="store_true", help="remove keys in Ceph that Latchkey did not issue"
        )

    def handle(self, *args: Any, remove_unknown: bool, **options: Any) -> None:
        report = keys_reconcile(remove_unknown=remove_unknown)
        for number, access_key, subuser in report.unknown:
            action = "removed" if access_key in report.removed else "unknown"
            self.stdout.write(f"{action}: {access_key} in project {number} (subuser {subuser or '-'})")
        for access_key in report.missing:
            self.stdout.write(f"missing from Ceph, marked revoked: {access_key}")
        for number in report.failed_projects:
            self.stderr.write(f"project {number}: Ceph unavailable, not checked")
        self.stdout.write(" ".join(f"{k}={v}" for k, v in report.summary().items()))
