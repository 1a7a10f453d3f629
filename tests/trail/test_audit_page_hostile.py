"""Whatever a user can type ends up in the trail, and the auditors' page must still show it.

Generated from tests/hostile.py: events whose user-controlled fields (the username of a
refused login, actor label, device id, request data, a row's values) hold each hostile
string; then every page variant (newest, each filter, each object's history, every link the
pages offer) must answer 200 with the text escaped.
"""

from html import unescape
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.test import Client

from audits.models import Unit
from audits.trail import context
from audits.trail.events import record_event
from tests.conftest import bearer
from tests.factories import PASSWORD, UnitFactory, UserFactory
from tests.hostile import TEXT

pytestmark = pytest.mark.django_db
FILTERS = ("actor", "action", "object_type", "object_id")
API = "/api/v1/audit/events"


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def links(page: str, base: str) -> list[str]:
    parser = Links()
    parser.feed(page)
    out = []
    for href in parser.hrefs:
        parts = urlsplit(href)
        path = parts.path or base
        if not path.startswith("/"):
            path = base + path
        if path.startswith("/audit/"):  # the CSV link shares the API's filters, tested there
            out.append(path + (f"?{parts.query}" if parts.query else ""))
    return out


def assert_shown_safely(answer, path: str) -> str:
    assert answer.status_code == 200, (path[:200], answer.status_code)
    page = answer.content.decode()
    # No hostile markup survives as markup; it is shown as text.
    assert "<script>alert(1)" not in page
    assert "<img src=x" not in page
    return page


@pytest.fixture
def auditor_web():
    UserFactory(username="auditor_hostile", roles=["auditor"])
    web = Client()
    assert web.login(username="auditor_hostile", password=PASSWORD)
    return web


@pytest.fixture
def hostile_trail(api):
    """One refused login per hostile username, events and row changes carrying them."""
    api.post(
        "/api/v1/auth/token",
        {"username": "probe/slash", "password": "wrong", "device_id": "probe"},
        format="json",
    )
    unit = UnitFactory(name="原名")
    for text in TEXT:
        source = {"actor_label": text, "device_id": text, "request_id": text[:64]}
        with context.bind(lambda source=source: source), context.action("auth.login_failed"):
            record_event(
                action="auth.login_failed",
                object_type="user",
                object_id=text,
                data={"device_id": text, text: text, "items": text},
            )
            record_event(action=text, object_type=text, object_id=text, data=None)
        with context.bind(lambda source=source: source), context.action("unit.rename"):
            Unit.objects.filter(pk=unit.pk).update(name=text[:100])
    return unit


def test_the_reported_case_newest_and_filtered(auditor_web, api):
    api.post(
        "/api/v1/auth/token",
        {"username": "probe/slash", "password": "wrong", "device_id": "probe"},
        format="json",
    )
    for path in ("/audit/", "/audit/?action=auth.login_failed"):
        page = assert_shown_safely(auditor_web.get(path), path)
        assert "probe/slash" in page


def test_every_page_variant_renders_hostile_text(auditor_web, hostile_trail):
    seen: set[str] = set()
    todo = ["/audit/", "/audit/?action=auth.login_failed", "/audit/?object_type=user"]
    for text in TEXT:
        todo += [("/audit/", {name: text}) for name in FILTERS]
        todo.append(("/audit/", {"before": text}))
    while todo:
        item = todo.pop()
        path, params = item if isinstance(item, tuple) else (item, None)
        key = f"{path}|{params}"
        if key in seen:
            continue
        seen.add(key)
        answer = auditor_web.get(path, params)
        page = assert_shown_safely(answer, path)
        todo += [link for link in links(page, "/audit/") if f"{link}|None" not in seen]
    # Each object's history was reached through the page's own links, and shows its events.
    histories = [key for key in seen if key.startswith("/audit/object/")]
    assert len(histories) >= len(TEXT)


def test_each_hostile_object_history_holds_its_events(auditor_web, hostile_trail):
    page = assert_shown_safely(auditor_web.get("/audit/", {"object_type": "user"}), "/audit/")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    by_id = {}
    for link in links(page, "/audit/"):
        if link.startswith("/audit/object/"):
            history = assert_shown_safely(auditor_web.get(link), link)
            by_id[link] = history
    shown = " ".join(unescape(h) for h in by_id.values())
    for text in TEXT:
        assert text.strip() in shown or not text.strip(), repr(text[:40])


def test_the_api_takes_the_same_filters(hostile_trail):
    client = bearer(UserFactory(roles=["auditor"]))
    for text in TEXT:
        for name in FILTERS:
            answer = client.get(API, {name: text})
            assert answer.status_code == 200, (name, text[:40], answer.status_code)
        answer = client.get(API, {"object_type": "user", "object_id": text})
        assert {e["object_id"] for e in answer.json()["results"]} == {text}


def test_a_nul_in_a_filter_is_refused_by_name(auditor_web):
    client = bearer(UserFactory(roles=["auditor"]))
    for name in FILTERS:
        answer = client.get(API, {name: "a\x00b"})
        assert answer.status_code == 400, name
        assert list(answer.json()["errors"]) == [name]
        page = auditor_web.get("/audit/", {name: "a\x00b"})
        assert page.status_code == 400
        assert f'id="f-{name.replace("_", "-")}-error"' in page.content.decode()


def test_an_export_records_whatever_was_asked(auditor_web, hostile_trail):
    client = bearer(UserFactory(roles=["auditor"]))
    for text in [*TEXT, "nul\x00inside"]:
        answer = client.get(f"{API}.csv", {"note": text, text: "x", "action": "none"})
        assert answer.status_code == 200, repr(text[:40])
        b"".join(answer.streaming_content)
    page = assert_shown_safely(auditor_web.get("/audit/", {"action": "audit.export"}), "/audit/")
    assert "nul\ufffdinside" in page
