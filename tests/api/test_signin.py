"""Every way in (the API's token, the web form, the admin) under the same limits and events."""

import pytest

from tests.factories import PASSWORD, UserFactory

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
