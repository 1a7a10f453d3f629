"""Which folder may import which (docs/ARCHITECTURE.md, "Layers"), read from the imports.

server → api → services/selectors → models; workers and commands → services; nothing imports
the API but server. Every import counts, those inside functions included.
"""

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

# The HTTP edge: it answers requests, so the domain never reaches into it.
HTTP_EDGE = (
    "audits.api",
    "audits.problems",
    "audits.middleware",
    "audits.web",
    "audits.audit_web",
    "audits.bulletin_web",
    "rest_framework",
    "rest_framework_simplejwt",  # the tokens' format is audits/tokens.py's alone
    "django.http",
)
DOMAIN = ("audits.services", "audits.selectors", "audits.models", "audits.trail", "workers")

# (importing modules, imported modules it may not use, why)
RULES = [
    (("audits", "workers"), ("audits.api",), "nothing imports the API but server"),
    (("audits", "workers"), ("server",), "server configures the application; never the reverse"),
    (DOMAIN, HTTP_EDGE, "the domain knows no HTTP: the API maps its errors and answers"),
    (
        ("audits.selectors",),
        ("audits.services", "audits.trail.events", "audits.outbox"),
        "reads never write; a read that must leave an event is recorded by its caller's verb",
    ),
    (
        ("audits.models",),
        (
            "audits.services",
            "audits.selectors",
            "audits.visibility",
            "audits.permissions",
            "audits.trail",
        ),
        "models sit below everything that uses them",
    ),
    (("audits.services",), ("workers",), "verbs hand work to workers through the outbox"),
    (
        ("workers",),
        ("audits.models", "audits.selectors", "audits.trail", "audits.outbox", "audits.photos"),
        "tasks are ids in and one verb call: they import the verbs only",
    ),
]


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from audits import outbox` imports audits.outbox.
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


MODULES = {
    _module(path): _imports(path)
    for folder in ("audits", "workers", "server")
    for path in (ROOT / folder).rglob("*.py")
    if "migrations" not in path.parts
}


@pytest.mark.parametrize(("importers", "forbidden", "why"), RULES, ids=[r[2] for r in RULES])
def test_no_import_breaks_the_layers(importers, forbidden, why):
    broken = sorted(
        f"{module} imports {name}"
        for module, names in MODULES.items()
        if _within(module, importers) and not _within(module, forbidden)
        for name in names
        if _within(name, forbidden)
    )
    assert broken == [], why


def test_the_walk_sees_the_layers():
    """The rules above bite: each folder they name exists and has imports to judge."""
    for prefix in ("audits.api", "audits.services", "audits.selectors", "audits.models", "workers"):
        assert any(_within(module, (prefix,)) for module in MODULES), prefix
    assert "audits.services.visits" in MODULES["audits.api.inspection_views"]


def test_no_view_module_imports_another():
    """Serializers two view modules share live in a serializers module (photo_serializers,
    inspection_serializers, serializers), not in one of the views."""
    views = {m for m in MODULES if m.startswith("audits.api.") and m.endswith("views")}
    crossed = sorted(
        f"{module} imports {name}"
        for module in views
        for name in MODULES[module]
        if any(name == other or name.startswith(other + ".") for other in views - {module})
    )
    assert crossed == []
