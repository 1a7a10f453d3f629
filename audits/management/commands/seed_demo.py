"""`manage.py seed_demo [--scale demo|full]`: build the demo and print its accounts."""

from django.conf import settings
from django.core.management.base import BaseCommand

from audits.choices import Level
from audits.demo.build import SCALES, build_demo

DEFAULT_PASSWORD = "demo-pass-2015"  # noqa: S105 - the documented demo default, not a secret


class Command(BaseCommand):
    help = (
        "Build the demo: the 宿州市 tree, officials, demo accounts, teams and the 2015 "
        "checklist. Running it again changes nothing; --scale full adds the real-size tree "
        "(1,210 villages, 99 communities)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--scale", choices=SCALES, default="demo")
        parser.add_argument(
            "--list-officials",
            action="store_true",
            help="print every official_<code> account, not only a few examples",
        )

    def handle(self, *args, scale: str, list_officials: bool, **options) -> None:
        result = build_demo(scale=scale)
        out = self.stdout.write
        names = result.unit_names

        if result.changed:
            made = ", ".join(f"{key} {n}" for key, n in sorted(result.created.items()) if n)
            out(self.style.SUCCESS(f"seed_demo --scale {scale}: created {made}"))
        else:
            out(self.style.SUCCESS(f"seed_demo --scale {scale}: already complete, nothing changed"))

        out("")
        out("Demo accounts:")
        rows = [("username", "role", "home unit", "")]
        for account in result.accounts:
            roles = ", ".join(account.roles) or "superuser"
            rows.append(
                (account.username, roles, f"{names[account.unit]} ({account.unit})", account.note)
            )
        officials = result.official_accounts
        shown = officials if list_officials else self._examples(officials)
        for account in shown:
            rows.append(
                (account.username, "unit_official", f"{names[account.unit]} ({account.unit})", "")
            )
        widths = [max(_width(row[i]) for row in rows) for i in range(3)]
        for row in rows:
            cells = [_pad(cell, width) for cell, width in zip(row, widths, strict=False)]
            out("  " + "  ".join([*cells, row[3]]).rstrip())
        if len(shown) < len(officials):
            out(
                f"  … official_<code> for every village and community: {len(officials)} "
                "accounts (--list-officials prints them all)"
            )

        out("")
        if settings.DEMO_PASSWORD == DEFAULT_PASSWORD:
            out(f"Password for all of them: {DEFAULT_PASSWORD} (set DEMO_PASSWORD to change it)")
        else:
            out("Password for all of them: the value of DEMO_PASSWORD")

        out("")
        levels = ", ".join(f"{level} {result.units_by_level[level]}" for level in Level.values)
        out(f"Units of 宿州市: {levels}")
        out(", ".join(f"{key} {n}" for key, n in result.totals.items()))

    @staticmethod
    def _examples(officials: list) -> list:
        """A community and a village official per county or zone, to sign in as anywhere."""
        seen, examples = set(), []
        for account in officials:
            key = (account.unit[:6], account.unit[9] == "0")  # community codes end 0xx
            if key not in seen:
                seen.add(key)
                examples.append(account)
        return examples


def _width(text: str) -> int:
    """Display width in a terminal: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
