"""Sign-in, rotation, logout and throttling, as the mobile app uses them."""

import pytest

from audits.models import AuditEvent, DeviceSession
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOKEN, REFRESH, LOGOUT, ME = (
    "/api/v1/auth/token",
    "/api/v1/auth/refresh",
    "/api/v1/auth/logout",
    "/api/v1/me",
)


def login(api, username, password=PASSWORD, device="phone-1"):
    return api.post(
        TOKEN, {"username": username, "password": password, "device_id": device}, format="json"
    )


def test_login_gives_tokens_that_open_me(api):
    user = UserFactory(username="zhang", display_name="张三")
    answer = login(api, "zhang")
    assert answer.status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {answer.json()['access']}")
    me = api.get(ME)
    assert me.status_code == 200
    assert me.json()["username"] == "zhang"
    assert me.json()["display_name"] == "张三"
    assert me.json()["unit"]["id"] == str(user.unit_id)
    assert DeviceSession.objects.get(user=user).device_id == "phone-1"


def test_wrong_password_and_unknown_user_get_the_same_401_and_are_audited(api):
    UserFactory(username="li")
    wrong = login(api, "li", "not-the-password")
    missing = login(api, "nobody-here", "not-the-password")
    assert wrong.status_code == missing.status_code == 401
    assert wrong["Content-Type"] == "application/problem+json"
    assert wrong.json() == missing.json()
    events = AuditEvent.objects.filter(action="auth.login_failed").order_by("seq")
    assert [e.object_id for e in events] == ["li", "nobody-here"]
    assert events[0].ip == "127.0.0.1"
    assert events[0].after == {"via": "api", "device_id": "phone-1"}


def test_refresh_rotates_and_a_spent_refresh_token_is_refused(api):
    UserFactory(username="wang")
    first = login(api, "wang").json()
    second = api.post(REFRESH, {"refresh": first["refresh"]}, format="json")
    assert second.status_code == 200
    assert second.json()["refresh"] != first["refresh"]
    replay = api.post(REFRESH, {"refresh": first["refresh"]}, format="json")
    assert replay.status_code == 401
    assert replay.json()["code"] == "token_not_valid"
    # Reuse means a copy is out there: the whole device session ends, the new token too.
    after_reuse = api.post(REFRESH, {"refresh": second.json()["refresh"]}, format="json")
    assert after_reuse.status_code == 401
    assert AuditEvent.objects.filter(action="auth.refresh_reused").exists()


def test_logout_ends_that_devices_tokens_only(api):
    UserFactory(username="zhao")
    phone = login(api, "zhao", device="phone").json()
    tablet = login(api, "zhao", device="tablet").json()
    assert api.post(LOGOUT, {"refresh": phone["refresh"]}, format="json").status_code == 204
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {phone['access']}")
    assert api.get(ME).status_code == 401
    assert api.post(REFRESH, {"refresh": phone["refresh"]}, format="json").status_code == 401
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tablet['access']}")
    assert api.get(ME).status_code == 200
    event = AuditEvent.objects.filter(action="auth.logout").get()
    assert event.device_id == "phone"
    assert event.actor_label == "zhao"


def test_inactive_user_cannot_use_existing_tokens(api):
    user = UserFactory(username="sun")
    tokens = login(api, "sun").json()
    user.is_active = False
    user.save()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert api.get(ME).status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {"username": "x", "password": "y"},
        {"username": ["x"], "password": "y", "device_id": "d"},
        {"username": {"a": 1}, "password": "y", "device_id": "d"},
        {"username": "x", "password": None, "device_id": "d"},
    ],
)
def test_malformed_login_bodies_get_400_with_field_errors(api, body):
    answer = api.post(TOKEN, body, format="json")
    assert answer.status_code == 400
    assert answer["Content-Type"] == "application/problem+json"
    assert answer.json()["errors"]


def test_forged_or_garbage_tokens_get_401(api):
    api.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    answer = api.get(ME)
    assert answer.status_code == 401
    assert answer["Content-Type"] == "application/problem+json"
    assert api.post(REFRESH, {"refresh": "garbage"}, format="json").status_code == 401


def test_login_is_throttled_per_username_with_retry_after(api, settings):
    UserFactory(username="qian")
    for _ in range(10):
        assert login(api, "qian", "wrong").status_code == 401
    throttled = login(api, "qian", "wrong")
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) > 0
    assert throttled.json()["code"] == "throttled"
    # Another username from the same address is not yet blocked by the per-user limit.
    assert login(api, "someone-else", "wrong").status_code == 401


def test_login_is_throttled_per_address(api):
    for n in range(60):
        assert login(api, f"user-{n}", "wrong").status_code == 401
    assert login(api, "user-x", "wrong").status_code == 429


def test_session_login_page_and_admin(client):
    user = UserFactory(username="web", is_staff=True, is_superuser=True)
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert "登录" in page.content.decode()
    answer = client.post("/accounts/login/", {"username": "web", "password": PASSWORD})
    assert answer.status_code == 302
    home = client.get("/")
    assert "欢迎" in home.content.decode()
    assert client.get("/admin/").status_code == 200
    # The session also authenticates the API, for the web pages.
    assert client.get(ME).json()["id"] == user.pk
