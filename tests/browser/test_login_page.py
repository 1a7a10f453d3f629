"""Signing in on the web pages, in Chinese first and in English on request."""

import pytest

from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_shows_home_and_switches_to_english(live_server, page, tmp_path):
    UserFactory(username="planner_web", display_name="城市规划员")
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    page.fill("#id_username", "planner_web")
    page.fill("#id_password", "wrong-password")
    page.click("button[type=submit]")
    assert page.inner_text("#login-error") == "用户名或密码错误。"
    page.fill("#id_username", "planner_web")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#welcome")
    assert page.inner_text("#welcome") == "欢迎，城市规划员"
    page.screenshot(path=str(tmp_path / "home-zh.png"))
    page.click("button[value=en]")
    page.wait_for_selector("text=Welcome, 城市规划员")
    assert page.inner_text("#logout") == "Sign out"
    page.click("#logout")
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url


def test_too_many_failures_show_the_limit_on_the_form(live_server, page, settings):
    settings.SIGNIN_LIMIT_USERNAME = "2/min"
    UserFactory(username="leader_web")
    page.goto(f"{live_server.url}/accounts/login/")
    for _ in range(2):
        page.fill("#id_username", "leader_web")
        page.fill("#id_password", "wrong-password")
        page.click("button[type=submit]")
        assert page.inner_text("#login-error") == "用户名或密码错误。"
    page.fill("#id_username", " leader_web ")
    page.fill("#id_password", PASSWORD)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click("button[type=submit]")
    assert posted.value.status == 429
    assert page.inner_text("#login-error").startswith("登录尝试过于频繁，请在")
    assert "/accounts/login/" in page.url
