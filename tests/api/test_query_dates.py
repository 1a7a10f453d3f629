"""Dates and times in query strings: a bad one is a 400 naming the parameter, never a 500.

Generated from the served OpenAPI document: every query parameter of a GET declared as a
date or date-time is sent each value of tests/hostile.py's DATES. A parameter whose name
says it is a date (`from`, `to`, `*_at`, `*_on`, `since`, `until`) must be declared so,
or this test fails: a new one cannot slip past it as a plain string.
"""

import json
import re

import pytest
from django.test import Client

from tests.api.test_problems import assert_problem
from tests.conftest import bearer
from tests.factories import PASSWORD, UserFactory
from tests.hostile import DATES

pytestmark = pytest.mark.django_db
DATE_FORMATS = {"date", "date-time"}
LOOKS_LIKE_A_DATE = re.compile(r"^(from|to|since|until|before_date|after_date)$|_(at|on)$")
GOOD = {"date": "2024-06-01", "date-time": "2024-06-01T08:00:00+08:00"}


def date_parameters(client) -> list[tuple[str, str, str]]:
    """(path, parameter, format) of every date or time query parameter of a GET."""
    schema = json.loads(client.get("/api/schema/", {"format": "json"}).content)
    found, undeclared = [], []
    for path, item in schema["paths"].items():
        operation = item.get("get")
        if operation is None:
            continue
        for param in operation.get("parameters", []):
            if param["in"] != "query":
                continue
            fmt = param.get("schema", {}).get("format")
            if fmt in DATE_FORMATS:
                assert "{" not in path, f"{path}: fill in its path parameters here"
                found.append((path, param["name"], fmt))
            elif param.get("schema", {}).get("type") == "string" and LOOKS_LIKE_A_DATE.search(
                param["name"]
            ):
                undeclared.append(f"{path} {param['name']}")
    assert undeclared == [], "declare these as OpenApiTypes.DATE or DATETIME"
    return found


@pytest.fixture
def auditor():
    return UserFactory(username="auditor_dates", roles=["auditor"])


def test_the_walk_finds_the_date_parameters(auditor):
    found = {(path, name) for path, name, _ in date_parameters(bearer(auditor))}
    assert {
        ("/api/v1/audit/events", "from"),
        ("/api/v1/audit/events", "to"),
        ("/api/v1/audit/events.csv", "from"),
        ("/api/v1/stats", "from"),
        ("/api/v1/stats", "to"),
    } <= found


def test_every_date_parameter_refuses_every_bad_date_by_name(auditor):
    client = bearer(auditor)
    wrong = []
    for path, name, fmt in date_parameters(client):
        assert client.get(path, {name: GOOD[fmt]}).status_code == 200, (path, name)
        for value in DATES:
            answer = client.get(path, {name: value})
            if answer.status_code != 400:
                wrong.append(f"{path}?{name}={value!r}: {answer.status_code}")
                continue
            body = assert_problem(answer, 400)
            if list(body.get("errors", {})) != [name]:
                wrong.append(f"{path}?{name}={value!r}: errors {body.get('errors')}")
    assert wrong == [], "\n".join(wrong)


def test_the_auditors_page_shows_a_bad_date_next_to_its_field(auditor):
    web = Client()
    assert web.login(username=auditor.username, password=PASSWORD)
    for name in ("from", "to"):
        for value in DATES:
            answer = web.get("/audit/", {name: value, "action": "unit.create"})
            assert answer.status_code == 400, (name, value)
            page = answer.content.decode()
            assert f'id="f-{name}-error"' in page, (name, value)
            other = "to" if name == "from" else "from"
            assert f'id="f-{other}-error"' not in page
            # What was typed stays in the form, to be corrected.
            assert 'value="unit.create"' in page
        assert web.get("/audit/", {name: "2024-06-01"}).status_code == 200
