"""Every way in (the API's token, the web form, the admin) under the same limits and events."""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from django.test import Client

from audits import ratelimit
from audits.models import AuditEvent
from tests.factories import PASSWORD, ChecklistFactory, UserFactory

pytestmark = pytest.mark.django_db

TOKEN, ME = "/api/v1/auth/token", "/api/v1/me"


def api_login(api, username, password=PASSWORD, device="phone-1", **extra):
    return api.post(
        TOKEN,
        {"username": username, "password": password, "device_id": device},
        format="json",
        **extra,
    )


# What the web form treats as the same name (it strips, then applies NFKC) is the same name
# for the limits and for authentication, whichever way in is used.
NAME_VARIANTS = [" qian", "qian\t", "  qian  ", "\u3000qian", "ｑｉａｎ", "qian\u00a0"]


@pytest.mark.parametrize("variant", NAME_VARIANTS)
def test_variants_of_a_name_share_its_limit(api, variant):
    UserFactory(username="qian")
    for _ in range(10):
        assert api_login(api, "qian", "wrong").status_code == 401
    assert api_login(api, variant, "wrong").status_code == 429
    # Not even the right password gets through under another spelling of the name.
    assert api_login(api, variant).status_code == 429


@pytest.mark.parametrize("variant", NAME_VARIANTS)
def test_a_variant_spelling_counts_against_the_plain_name(api, variant):
    UserFactory(username="qian")
    for _ in range(10):
        assert api_login(api, variant, "wrong").status_code == 401
    assert api_login(api, "qian").status_code == 429


@pytest.mark.parametrize("variant", NAME_VARIANTS)
def test_a_variant_spelling_with_the_right_password_signs_in_as_the_user(api, variant):
    user = UserFactory(username="qian")
    answer = api_login(api, variant)
    assert answer.status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {answer.json()['access']}")
    assert api.get(ME).json()["id"] == user.pk


def test_names_stay_case_sensitive_as_djangos_backend_is(api):
    UserFactory(username="qian")
    assert api_login(api, "QIAN").status_code == 401


# --- The web sign-in: the same verb, so the same limits and the same events -----------------

LOGIN = "/accounts/login/"


def web_login(client, username, password=PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def failed_events():
    return AuditEvent.objects.filter(action="auth.login_failed").order_by("seq")


def test_web_failures_are_audited_and_throttled_with_a_chinese_message(client):
    UserFactory(username="leader_xiao")
    for _ in range(10):
        answer = web_login(client, "leader_xiao", "wrong")
        assert answer.status_code == 200
        assert "用户名或密码错误。" in answer.content.decode()
    events = list(failed_events())
    assert [e.object_id for e in events] == ["leader_xiao"] * 10
    assert events[0].after == {"via": "web"}
    assert events[0].ip == "127.0.0.1"
    throttled = web_login(client, "leader_xiao", "wrong")
    assert throttled.status_code == 429
    assert 0 < int(throttled["Retry-After"]) <= 60
    assert "登录尝试过于频繁" in throttled.content.decode()
    # The right password does not get through either, and nothing was tried or recorded.
    right = web_login(client, "leader_xiao")
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get(ME).status_code in (401, 403)
    assert failed_events().count() == 10


def test_web_throttled_message_is_english_on_request(client):
    UserFactory(username="leader_xiao")
    for _ in range(10):
        web_login(client, "leader_xiao", "wrong")
    answer = web_login(client, "leader_xiao", "wrong", HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 429
    assert "Too many sign-in attempts" in answer.content.decode()


def test_web_and_api_attempts_count_against_one_limit(client, api):
    UserFactory(username="leader_xiao")
    for _ in range(5):
        assert web_login(client, " leader_xiao", "wrong").status_code == 200
        assert api_login(api, "leader_xiao\t", "wrong").status_code == 401
    assert api_login(api, "leader_xiao").status_code == 429
    assert web_login(client, "leader_xiao").status_code == 429


def test_web_sign_in_is_an_audit_event_of_the_user(client):
    user = UserFactory(username="leader_xiao")
    answer = web_login(client, "ｌｅａｄｅｒ_xiao")
    assert answer.status_code == 302
    event = AuditEvent.objects.get(action="auth.login")
    assert event.actor_id == user.pk
    assert (event.object_type, event.object_id) == ("user", str(user.pk))
    assert event.after == {"via": "web"}
    assert event.ip == "127.0.0.1"


def test_successes_do_not_use_up_the_limit(client, api):
    UserFactory(username="leader_xiao")
    for _ in range(12):
        assert web_login(client, "leader_xiao").status_code == 302
        assert api_login(api, "leader_xiao").status_code == 200
    assert web_login(client, "leader_xiao").status_code == 302


def test_the_admin_has_no_sign_in_of_its_own(client):
    UserFactory(username="root", is_staff=True, is_superuser=True)
    page = client.get("/admin/login/?next=/admin/")
    assert page.status_code == 302
    assert page["Location"] == "/accounts/login/?next=/admin/"
    # A password posted to the admin's form is never checked there.
    posted = client.post("/admin/login/", {"username": "root", "password": PASSWORD})
    assert posted.status_code == 302
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302
    assert web_login(client, "root").status_code == 302
    assert client.get("/admin/").status_code == 200


def test_the_web_session_on_the_api_needs_the_csrf_token_to_change_anything():
    # Decision: the session of the web sign-in also authenticates /api/ (the web pages use
    # it); it came through the same limits and events, and unsafe methods need CSRF.
    UserFactory(username="planner_web")
    browser = Client(enforce_csrf_checks=True)
    browser.get(LOGIN)
    token = browser.cookies["csrftoken"].value
    signed_in = browser.post(
        LOGIN, {"username": "planner_web", "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert signed_in.status_code == 302
    assert browser.get(ME).status_code == 200
    token = browser.cookies["csrftoken"].value
    refused = browser.post("/api/v1/campaigns", {}, content_type="application/json")
    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/problem+json"
    assert "CSRF" in refused.json()["detail"]
    allowed = browser.post(
        "/api/v1/campaigns", {}, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert allowed.status_code == 400


def test_parallel_attempts_cannot_slip_past_a_limit():
    # Check and count are one step in Redis: 40 attempts at once against a limit of 10.
    # (Threads have their own cache object, without the test's key prefix: a fresh key.)
    limit = [ratelimit.Limit(f"signin:test:{uuid.uuid4().hex}", "10/min")]
    barrier = threading.Barrier(40)

    def attempt() -> float:
        barrier.wait()
        try:
            ratelimit.reserve(limit)
        except ratelimit.Exceeded as exc:
            return exc.wait
        return 0.0

    with ThreadPoolExecutor(max_workers=40) as pool:
        waits = list(pool.map(lambda _: attempt(), range(40)))
    assert waits.count(0.0) == 10
    assert all(0 < wait <= 60 for wait in waits if wait)


def test_a_released_attempt_frees_its_place():
    limit = [ratelimit.Limit(f"signin:test:{uuid.uuid4().hex}", "2/min")]
    ratelimit.reserve(limit)
    ratelimit.release(ratelimit.reserve(limit))
    ratelimit.reserve(limit)
    with pytest.raises(ratelimit.Exceeded):
        ratelimit.reserve(limit)


# --- Limits that slow guessing without handing out a lock-out ------------------------------

ATTACKER, HOME, ROAMING = "203.0.113.66", "198.51.100.7", "192.0.2.44"


def fail_from(api, address, name="qian", times=10):
    for _ in range(times):
        assert api_login(api, name, "wrong", REMOTE_ADDR=address).status_code == 401


def test_failures_from_one_address_do_not_lock_the_user_out_elsewhere(api, client):
    user = UserFactory(username="qian")
    fail_from(api, ATTACKER)
    assert api_login(api, "qian", REMOTE_ADDR=ATTACKER).status_code == 429
    assert web_login(client, "qian", REMOTE_ADDR=ATTACKER).status_code == 429
    # The real user, anywhere else, signs in on either way in.
    answer = api_login(api, "qian", REMOTE_ADDR=ROAMING)
    assert answer.status_code == 200
    assert web_login(client, "qian", REMOTE_ADDR=HOME).status_code == 302
    assert client.get(ME).json()["id"] == user.pk


def test_an_address_behind_the_configured_proxy_is_the_one_the_proxy_saw(api, settings):
    settings.NUM_PROXIES = 1
    UserFactory(username="qian")
    for n in range(10):
        # Whatever the client writes in front, the proxy appends the address it saw.
        spoofed = f"10.0.0.{n}, {ATTACKER}"
        answer = api_login(api, "qian", "wrong", HTTP_X_FORWARDED_FOR=spoofed)
        assert answer.status_code == 401
    assert api_login(api, "qian", HTTP_X_FORWARDED_FOR=f"{ROAMING}, {ATTACKER}").status_code == 429
    assert api_login(api, "qian", HTTP_X_FORWARDED_FOR=ROAMING).status_code == 200


def test_distributed_guessing_meets_a_ceiling_that_spares_known_addresses(api):
    UserFactory(username="qian")
    # The user signed in from home before: that (name, address) is known for 30 days.
    assert api_login(api, "qian", REMOTE_ADDR=HOME).status_code == 200
    for n in range(10):
        fail_from(api, f"203.0.113.{n + 1}")
    # 100 refusals in a minute for one name, from 10 addresses: new addresses wait.
    refused = api_login(api, "qian", REMOTE_ADDR=ROAMING)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert api_login(api, "qian", "wrong", REMOTE_ADDR="203.0.113.99").status_code == 429
    # From home the user still signs in, and home keeps its own per-address limits.
    assert api_login(api, "qian", REMOTE_ADDR=HOME).status_code == 200
    fail_from(api, HOME)
    assert api_login(api, "qian", REMOTE_ADDR=HOME).status_code == 429
    # Other names are not touched by the ceiling on this one.
    UserFactory(username="zhou")
    assert api_login(api, "zhou", REMOTE_ADDR=ROAMING).status_code == 200


# --- The device of an event is what the server established, never a client's header -------


def campaign_body(planner) -> dict:
    today = date.today()
    return {
        "id": str(uuid.uuid4()),
        "title": "设备来源检查",
        "mode": "announced",
        "unit": str(planner.unit_id),
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=30)).isoformat(),
        "checklist": str(ChecklistFactory(owner_unit=planner.unit).pk),
    }


def test_a_web_session_is_its_own_device_whatever_the_header_says():
    planner = UserFactory(username="planner_web")
    browser = Client(enforce_csrf_checks=True, HTTP_X_DEVICE_ID="forged-by-the-page")
    browser.get(LOGIN)
    browser.post(
        LOGIN,
        {
            "username": "planner_web",
            "password": PASSWORD,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"].value,
        },
    )
    login = AuditEvent.objects.get(action="auth.login")
    session_key = browser.session.session_key
    assert login.device_id.startswith("web:")
    assert session_key not in login.device_id
    created = browser.post(
        "/api/v1/campaigns",
        campaign_body(planner),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value,
    )
    assert created.status_code == 201, created.content
    change = AuditEvent.objects.get(action="campaign.create", object_type="campaign")
    assert change.actor_id == planner.pk
    # Every change made in that session names the same device: the sign-in's.
    assert change.device_id == login.device_id
    # Another session of the same user is another device.
    other = Client()
    other.post(LOGIN, {"username": "planner_web", "password": PASSWORD})
    second = AuditEvent.objects.filter(action="auth.login").order_by("-seq").first()
    assert second.device_id.startswith("web:")
    assert second.device_id != login.device_id


def test_a_bearer_token_is_its_device_sessions_device_whatever_the_header_says(api):
    planner = UserFactory(username="planner_app")
    tokens = api_login(api, "planner_app", device="pad-7").json()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    created = api.post(
        "/api/v1/campaigns", campaign_body(planner), format="json", HTTP_X_DEVICE_ID="forged"
    )
    assert created.status_code == 201, created.content
    change = AuditEvent.objects.get(action="campaign.create", object_type="campaign")
    assert change.device_id == "pad-7"


def test_a_refused_sign_in_establishes_no_device(api):
    UserFactory(username="qian")
    api_login(api, "qian", "wrong", device="claimed-phone", HTTP_X_DEVICE_ID="forged")
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.device_id == ""
    # What the client claimed is kept, as a claim, in the event's data.
    assert event.after == {"via": "api", "device_id": "claimed-phone"}
