"""Page cursors: every list of the API, found in the URL configuration, refuses a cursor it
did not issue with 400 `invalid_cursor`, and follows the ones it did.

A new list is covered without anyone remembering: the lists are the routes under /api/
whose view lists (DRF's ListModelMixin); the sync feed, the other cursor, is added by hand.
"""

from datetime import date

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.mixins import ListModelMixin

from audits.models import Bulletin
from audits.services.notifications import notify
from audits.trail import context
from tests.api.test_problems import assert_problem
from tests.conftest import bearer
from tests.factories import (
    ChecklistFactory,
    FindingFactory,
    OfficialFactory,
    PositionFactory,
    TeamFactory,
    UnitFactory,
    UserFactory,
)
from tests.hostile import CURSORS

pytestmark = pytest.mark.django_db
OTHER_CURSORS = ["/api/v1/sync"]


def _routes(patterns, prefix: str = "/"):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def list_paths() -> list[str]:
    """Every list view under /api/ in the URL configuration."""
    paths = []
    for route, entry in _routes(get_resolver().url_patterns):
        view = getattr(entry.callback, "view_class", None)
        if route.startswith("/api/") and view is not None and issubclass(view, ListModelMixin):
            # A list under a path parameter needs this test taught how to fill it in.
            assert "<" not in route, f"{route}: fill in its parameters here"
            paths.append(route)
    return paths


def test_the_walk_finds_the_lists():
    found = set(list_paths())
    expected = {
        "/api/v1/units",
        "/api/v1/officials",
        "/api/v1/users",
        "/api/v1/teams",
        "/api/v1/campaigns",
        "/api/v1/visits",
        "/api/v1/findings",
        "/api/v1/checklists",
        "/api/v1/audit/events",
    }
    assert expected <= found


@pytest.fixture
def auditor():
    """Someone every list answers (auditors read everything), with rows on each list."""
    city = UnitFactory()
    user = UserFactory(username="auditor_cursors", roles=["auditor"], unit=city)
    for _ in range(3):
        UnitFactory(parent=city)
        PositionFactory(official=OfficialFactory(), unit=city)
        UserFactory(unit=city)
        TeamFactory()
        ChecklistFactory(owner_unit=city)
        FindingFactory(status="submitted")
        notify(recipients=[user], kind="test.info", text="通知")
        Bulletin.objects.create(
            issuer=city,
            unit=city,
            period_start=date(2015, 1, 1),
            period_end=date(2015, 6, 30),
            title="通报",
            requested_by=user,
        )
    with context.user_context(user), context.action("test.event"):
        UnitFactory()
    return user


@pytest.mark.parametrize("path", list_paths() + OTHER_CURSORS)
def test_every_list_refuses_a_cursor_it_did_not_issue(auditor, path):
    client = bearer(auditor)
    assert client.get(path).status_code == 200, path
    wrong = []
    for cursor in CURSORS:
        answer = client.get(path, {"cursor": cursor})
        if answer.status_code != 400 or answer.json().get("code") != "invalid_cursor":
            wrong.append(f"{cursor[:30]!r}: {answer.status_code}")
        else:
            body = assert_problem(answer, 400, "invalid_cursor")
            assert "cursor" in body["errors"]
    assert wrong == [], path


@pytest.mark.parametrize("path", list_paths())
def test_every_list_follows_its_own_cursors_and_no_other(auditor, path):
    client = bearer(auditor)
    page = client.get(path, {"page_size": 1}).json()
    seen = [row.get("id", row.get("seq")) for row in page["results"]]
    steps = 0
    while page["next"] and steps < 4:
        answer = client.get(page["next"])
        assert answer.status_code == 200, page["next"]
        page = answer.json()
        seen += [row.get("id", row.get("seq")) for row in page["results"]]
        steps += 1
    assert steps >= 1, f"{path}: too few rows to page through"
    assert len(seen) == len(set(seen))
    if page["previous"]:
        assert client.get(page["previous"]).status_code == 200
    # The cursor of one list means nothing on another: refused, not misread.
    cursor = page["previous"].split("cursor=")[1].split("&")[0]
    other = "/api/v1/units" if path != "/api/v1/units" else "/api/v1/teams"
    assert_problem(client.get(f"{other}?cursor={cursor}"), 400, "invalid_cursor")
    # Nor someone else's.
    planner = UserFactory(roles=["planner", "auditor"], unit=auditor.unit)
    assert_problem(bearer(planner).get(f"{path}?cursor={cursor}"), 400, "invalid_cursor")
