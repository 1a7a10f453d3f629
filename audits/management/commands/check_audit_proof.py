"""`manage.py check_audit_proof proof.json --public-key B64 [--head head.json]`.

The auditor's script (audits/trail/check_proof.py) as a command: it reads only the JSON and
the public key, never the database; the script itself runs without Django.
"""

from django.core.management.base import BaseCommand, CommandError

from audits.trail import check_proof


class Command(BaseCommand):
    help = "Check an audit event proof (from /api/v1/audit/events/{seq}/proof) on its own."
    requires_system_checks: list = []
    requires_migrations_checks = False

    def add_arguments(self, parser) -> None:
        parser.add_argument("proof")
        parser.add_argument("--public-key", required=True)
        parser.add_argument("--head")

    def handle(self, *args, **options) -> None:
        argv = [options["proof"], "--public-key", options["public_key"]]
        if options["head"]:
            argv += ["--head", options["head"]]
        if check_proof.main(argv, out=self.stdout) != 0:
            raise CommandError("the proof does not hold")
