"""`manage.py rerun_draw`: rerun the documented draw (docs/DRAW.md) from a seed and a frame.

    manage.py rerun_draw --seed S --size N --frame-file codes.txt [--skip CODE ...]
    manage.py rerun_draw --campaign ID [--frame-file codes.txt]

The first form needs no database: it prints the chosen codes in rank order, one a line. The
second fetches a revealed draw (only after the campaign has ended), reruns it and checks that
the rerun gives the stored targets; it prints every ranked code it walked, marking the ones that
were skipped and why, and exits non-zero on any mismatch.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from audits.services.draws import commitment, digest, rank


def read_codes(path: str) -> list[str]:
    """Unit codes one a line; blank lines and lines starting with # are ignored."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc}") from exc
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def walk(ranked: list[str], size: int, skipped: dict[str, str]) -> list[tuple[str, str]]:
    """[(code, "target" or the skip reason)] in rank order, until `size` targets are taken."""
    out, taken = [], 0
    for code in ranked:
        if taken == size:
            break
        if code in skipped:
            out.append((code, skipped[code]))
        else:
            out.append((code, "target"))
            taken += 1
    return out


class Command(BaseCommand):
    help = (
        "Rerun the documented draw (docs/DRAW.md): rank the frame's codes by "
        "SHA-256(seed:code) and print the chosen ones; with --campaign, check a revealed "
        "draw against its stored targets."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--seed", help="the revealed seed")
        parser.add_argument("--size", type=int, help="how many targets were drawn")
        parser.add_argument("--frame-file", help="the frame's unit codes, one a line")
        parser.add_argument(
            "--skip",
            action="append",
            default=[],
            metavar="CODE",
            help="a code the draw skipped (conflict of interest); repeatable",
        )
        parser.add_argument("--campaign", help="id of a campaign whose draw is revealed")
        parser.add_argument(
            "--digests", action="store_true", help="print each code's SHA-256(seed:code) beside it"
        )

    def handle(self, *args, seed, size, frame_file, skip, campaign, digests, **options) -> None:
        if campaign:
            self._check_campaign(campaign, frame_file, digests)
            return
        if not seed or size is None or not frame_file:
            raise CommandError("give --seed, --size and --frame-file, or --campaign")
        if size < 1:
            raise CommandError("--size must be positive")
        ranked = rank(seed, read_codes(frame_file))
        skipped = dict.fromkeys(skip, "skipped")
        for code, what in walk(ranked, size, skipped):
            if what == "target":
                self._line(seed, code, "", digests)
            else:
                self._line(seed, code, f"  # {what}", digests, err=True)

    def _line(self, seed: str, code: str, note: str, digests: bool, err: bool = False) -> None:
        text = f"{code}  {digest(seed, code)}" if digests else code
        (self.stderr if err else self.stdout).write(text + note)

    def _check_campaign(self, campaign_id: str, frame_file: str | None, digests: bool) -> None:
        from django.core.exceptions import ValidationError as DjangoValidationError

        from audits.errors import DomainError, NotFound
        from audits.models import Campaign
        from audits.services.draws import draw_reveal

        try:
            campaign = Campaign.objects.get(pk=campaign_id)
        except (Campaign.DoesNotExist, DjangoValidationError) as exc:
            raise CommandError(f"no campaign {campaign_id}") from exc
        try:
            revealed = draw_reveal(campaign=campaign, today=timezone.localdate())
        except NotFound as exc:
            raise CommandError(f"campaign {campaign_id} has no draw") from exc
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc

        seed = revealed["seed"]
        frame = read_codes(frame_file) if frame_file else revealed["frame"]
        stored = [t["code"] for t in revealed["targets"]]
        skipped = {s["unit"]: s["reason"] for s in revealed["skipped"]}
        out = self.stdout.write
        out(f"seed        {seed}")
        out(f"commitment  {revealed['commitment']}")
        out(
            f"frame       {len(frame)} codes, size {revealed['size']}, "
            f"{len(stored)} targets, {len(skipped)} skipped"
        )
        walked = walk(rank(seed, frame), revealed["size"], skipped)
        for code, what in walked:
            note = "" if what == "target" else f"  skipped: {what}"
            text = f"{code}  {digest(seed, code)}" if digests else code
            out(text + note)

        problems = []
        if commitment(seed) != revealed["commitment"]:
            problems.append("SHA-256 of the seed is not the commitment")
        rerun = [code for code, what in walked if what == "target"]
        if rerun != stored:
            problems.append(f"rerun targets {rerun} differ from stored {stored}")
        walked_skips = [code for code, what in walked if what != "target"]
        if walked_skips != [s["unit"] for s in revealed["skipped"]]:
            problems.append("the skipped codes are not the ones the rerun walked past")
        if problems:
            raise CommandError("; ".join(problems))
        out(self.style.SUCCESS("OK: the rerun gives the stored targets"))
