"""The auditors' page in a real headless Chromium: search, an object's history, verification."""

import pytest

from audits.models import Unit
from audits.trail import context
from tests.factories import PASSWORD, UnitFactory, UserFactory
from tests.trail.sealing import seal_all

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/audit/")
    assert "/accounts/login/" in page.url
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def test_auditor_searches_follows_an_object_and_sees_verification(live_server, page, tmp_path):
    UserFactory(username="auditor_web", roles=["auditor"])
    editor = UserFactory(username="editor_web")
    unit = UnitFactory(name="某村")
    with context.user_context(editor), context.action("unit.rename"):
        Unit.objects.filter(pk=unit.pk).update(name="某社区")
    seal_all()

    sign_in(page, live_server.url, "auditor_web")
    page.wait_for_selector("#filters")
    assert "已封存至第" in page.inner_text("#head-status")
    page.fill("#f-actor", "editor_web")
    page.click("#search")
    page.wait_for_selector("tr.event")
    rows = page.locator("tr.event")
    assert rows.count() == 1
    assert rows.first.locator(".action").inner_text() == "unit.rename"
    assert "某村 → 某社区" in rows.first.locator(".changes").inner_text()
    assert "✔" in rows.first.locator(".sealed").inner_text()
    page.screenshot(path=str(tmp_path / "audit-search.png"))

    page.click("tr.event .object a")  # the object's whole history
    page.wait_for_selector("#object-title")
    assert str(unit.pk) in page.inner_text("#object-title")
    actions = page.locator("tr.event .action").all_inner_texts()
    assert actions == ["unit.create", "unit.rename"]

    page.goto(f"{live_server.url}/audit/?actor=no-such-person")
    assert page.inner_text("#no-events") == "没有符合条件的记录。"

    page.goto(f"{live_server.url}/audit/")
    page.click("#verify-link")
    page.wait_for_selector("#verify-status")
    assert page.inner_text("#verify-status").startswith("完整")
    page.click("button[value=en]")
    page.wait_for_selector("#verify-status")
    assert page.locator("#verify-status").count() == 1


def test_non_auditor_gets_not_found(live_server, page):
    UserFactory(username="planner_web2", roles=["planner"])
    sign_in(page, live_server.url, "planner_web2")
    answer = page.goto(f"{live_server.url}/audit/")
    assert answer.status == 404
