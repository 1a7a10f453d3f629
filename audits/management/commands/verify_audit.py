"""`manage.py verify_audit`: walk the sealed trail; exit 1 naming the first bad event."""

import base64
import json

from django.core.management.base import BaseCommand, CommandError

from audits.trail import keys
from audits.trail.check_proof import check_archive
from audits.trail.verify import verify


class Command(BaseCommand):
    help = "Verify the sealed audit trail (or an archive file); exit 1 if it was altered."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--json", action="store_true", help="print the full report as JSON")
        parser.add_argument(
            "--no-objects",
            action="store_true",
            help="skip comparing objects' current rows with their events",
        )
        parser.add_argument("--archive", help="verify an archive file instead of the database")

    def handle(self, *args, **options) -> None:
        if options["archive"]:
            count, errors = check_archive(
                options["archive"], base64.b64decode(keys.public_key_b64())
            )
            if errors:
                raise CommandError("; ".join(errors))
            self.stdout.write(f"ok: {count} archived leaves reach their signed head")
            return
        report = verify(objects=not options["no_objects"])
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        head = report.head.tree_size if report.head else 0
        summary = (
            f"checked {report.checked} (events {report.events}, gaps "
            f"{report.gap_count}), head {head}, heads {report.heads_checked}, unsealed "
            f"{report.unsealed}, {report.seconds:.2f} s"
        )
        if report.ok:
            self.stdout.write(f"ok: {summary}")
            return
        first = min(report.problems, key=lambda p: p.seq)
        raise CommandError(
            f"first bad event: seq {report.first_bad_seq} ({first.kind}: {first.detail}); {summary}"
        )
