"""One enumeration of error codes: the status table, the OpenAPI document, the validators and
the source all agree with `audits.errors.ErrorCode`."""

import importlib
import inspect
import pkgutil
import re

import pytest
import yaml
from rest_framework import serializers as s

import audits.api
from audits.errors import MESSAGES, ErrorCode
from audits.problems import STATUS
from tests.conftest import ROOT

# Field rules that the answer reports as plain `invalid` (audits/api/problems.py).
AS_INVALID = {"required", "invalid", "null", "blank"}


def test_every_code_has_a_status_but_the_fallback():
    assert set(STATUS) == set(ErrorCode) - {ErrorCode.ERROR}
    assert all(400 <= status < 600 for status in STATUS.values())


def test_every_code_has_a_message():
    assert set(MESSAGES) == set(ErrorCode)


@pytest.mark.django_db
def test_the_openapi_document_lists_every_code(api):
    schema = yaml.safe_load(api.get("/api/schema/").content)
    problem = schema["components"]["schemas"]["Problem"]
    assert problem["properties"]["code"]["enum"] == [code.value for code in ErrorCode]
    assert "- `id_conflict`: 409" in problem["properties"]["code"]["description"]


def _field_rules(serializer: s.Serializer) -> set[str]:
    rules = set(serializer.error_messages)
    for field in serializer.fields.values():
        rules |= set(field.error_messages)
        child = getattr(field, "child", None)
        if isinstance(child, s.Serializer):
            rules |= _field_rules(child)
        elif child is not None:
            rules |= set(child.error_messages)
        if isinstance(field, s.Serializer):
            rules |= _field_rules(field)
    return rules


def test_every_field_rule_of_the_api_is_a_code():
    """A 400 carries the code of the first field rule that failed: each must be listed."""
    rules: set[str] = set()
    for module in pkgutil.iter_modules(audits.api.__path__):
        loaded = importlib.import_module(f"audits.api.{module.name}")
        for _name, cls in inspect.getmembers(loaded, inspect.isclass):
            if issubclass(cls, s.Serializer) and cls.__module__ == loaded.__name__:
                rules |= _field_rules(cls())
    assert "invalid_choice" in rules  # the walk reached the fields
    assert sorted(rules - AS_INVALID - set(ErrorCode)) == []


def test_no_code_is_spelled_as_a_bare_string():
    """Codes are named through ErrorCode, so that a new one cannot bypass the list."""
    bare = re.compile(r"""code\s*=\s*["'][a-z_]+["']""")
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("audits", "server", "workers")
        for path in (ROOT / folder).rglob("*.py")
        if "migrations" not in path.parts and "demo" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if bare.search(line)
    ]
    assert found == []
