"""The English catalogue is complete and compiled: every Chinese string has its English."""

import re
import subprocess
from pathlib import Path

from django.utils import translation

from audits.errors import MESSAGES
from tests.conftest import ROOT

PO = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"


def _entries() -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) of every entry but the header; continuation lines joined."""
    entries = []
    for block in PO.read_text(encoding="utf-8").split("\n\n"):
        fuzzy = bool(re.search(r"^#,.*\bfuzzy\b", block, re.M))
        found = re.search(r'^msgid ((?:".*"\n)+)msgstr ((?:".*"\n?)+)', block, re.M)
        if not found:
            continue

        def text(lines: str) -> str:
            joined = "".join(re.findall(r'"(.*)"', lines))
            return joined.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")

        msgid, msgstr = text(found.group(1)), text(found.group(2))
        if msgid:
            entries.append((msgid, msgstr, fuzzy))
    return entries


def test_every_entry_is_translated_and_none_is_fuzzy():
    entries = _entries()
    assert len(entries) > 100
    assert [m for m, s, _ in entries if not s] == []
    assert [m for m, _, fuzzy in entries if fuzzy] == []


def test_the_compiled_catalogue_matches_the_source():
    with translation.override("en"):
        stale = [m for m, s, _ in _entries() if "%" not in m and translation.gettext(m) != s]
    assert stale == [], "run `manage.py compilemessages -l en --ignore=.venv`"


def test_every_translatable_string_in_python_is_in_the_catalogue(tmp_path: Path):
    # gettext comes with `make test` (scripts/test.sh installs it with the browser).
    sources = [
        str(p.relative_to(ROOT))
        for folder in ("audits", "server", "workers")
        for p in (ROOT / folder).rglob("*.py")
        if "migrations" not in p.parts
    ]
    pot = tmp_path / "python.pot"
    subprocess.run(
        [
            "xgettext",
            "--language=Python",
            "--from-code=UTF-8",
            "-o",
            str(pot),
            "--keyword=_",
            "--keyword=gettext",
            "--keyword=gettext_lazy",
            "--keyword=ngettext:1,2",
            "--keyword=pgettext:1c,2",
            *sources,
        ],
        cwd=ROOT,
        check=True,
    )
    wanted = set(re.findall(r'^msgid "(.+)"$', pot.read_text(encoding="utf-8"), re.M))
    known = {m for m, _, _ in _entries()}
    assert sorted(w for w in wanted if w.replace('\\"', '"') not in known) == [], (
        "run `manage.py makemessages -l en --ignore=.venv --ignore=tests --ignore=var "
        "--ignore=bench --ignore=media` and translate"
    )


def test_every_error_code_says_what_it_means_in_english():
    cjk = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")
    with translation.override("zh-hans"):
        assert all(cjk.search(str(message)) for message in MESSAGES.values())
    with translation.override("en"):
        untranslated = {
            code.value: str(message)
            for code, message in MESSAGES.items()
            if cjk.search(str(message))
        }
    assert untranslated == {}
