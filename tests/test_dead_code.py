"""Nothing the application defines lies unused: a dead name misleads whoever builds on it."""

import ast
import re

from django.conf import settings

from tests.conftest import ROOT

# Found by Django, DRF or drf-spectacular themselves (subclasses, settings strings, migrations).
DISCOVERED = {"AuditsConfig", "WorkersConfig", "DeviceJWTScheme"}


def _texts(*patterns: str) -> dict:
    return {
        path: path.read_text(encoding="utf-8")
        for pattern in patterns
        for path in ROOT.glob(pattern)
        if ".venv" not in path.parts and "var" not in path.parts
    }


def test_every_top_level_name_of_the_application_is_used_somewhere_else():
    application = _texts("audits/**/*.py", "workers/**/*.py")
    everything = {
        **application,
        **_texts("server/**/*.py", "manage.py", "tests/**/*.py", "bench/**/*.py"),
        **_texts("audits/templates/**/*.html"),
        # A name the documentation gives readers is the module's interface, not dead.
        **_texts("docs/*.md", "README.md"),
    }
    unused = []
    for path, text in application.items():
        if "migrations" in path.parts:
            continue
        for node in ast.parse(text).body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef) and not node.decorator_list:
                names = [node.name]
            elif isinstance(node, ast.Assign):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names = [node.target.id]
            else:
                continue
            for name in names:
                if name.startswith("__") or name in DISCOVERED:
                    continue
                word = re.compile(rf"\b{re.escape(name)}\b")
                uses = sum(len(word.findall(other)) for other in everything.values())
                if uses < 2:  # the definition itself
                    unused.append(f"{path.relative_to(ROOT)}: {name}")
    assert unused == []


def test_every_third_party_app_is_used_by_the_application():
    """An installed app that no module imports is configuration for nothing."""
    code = "\n".join(_texts("audits/**/*.py", "workers/**/*.py", "server/urls.py").values())
    ours = {"audits", "workers"}
    idle = [
        app
        for app in settings.INSTALLED_APPS
        if not app.startswith("django.")
        and app not in ours
        and not re.search(rf"^\s*(from|import) {re.escape(app)}\b", code, re.M)
    ]
    assert idle == []
