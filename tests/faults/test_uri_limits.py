"""Long URLs and malformed requests against a real gunicorn: problem+json at every length.

gunicorn refuses some requests before Django sees them (a request line over its
`limit_request_line`, headers too large, a line that is not HTTP); gunicorn.conf.py raises
its line limit to the most it allows and makes its own refusals problem+json. Under that,
`API_MAX_URL_BYTES` is ours: an /api/ URL longer is 414 `uri_too_long` from Django.
"""

import json
import socket
from urllib.parse import urlsplit

import pytest
import requests
from django.conf import settings

from audits.choices import Role
from tests.factories import UserFactory
from tests.faults.test_idempotency_race import _token, serve

pytestmark = pytest.mark.django_db(transaction=True)
PROBLEM = "application/problem+json"


def raw(base: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are; (status, headers, body) of the answer."""
    host = urlsplit(base)
    with socket.create_connection((host.hostname, host.port), timeout=30) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def assert_problem(status: int, headers: dict, body: bytes, expected: int, code: str) -> dict:
    headers = {name.lower(): value for name, value in headers.items()}
    assert status == expected, body[:300]
    assert headers["content-type"] == PROBLEM, body[:300]
    problem = json.loads(body)
    assert problem["status"] == expected
    assert problem["code"] == code
    assert b"<html" not in body.lower()
    return problem


def test_every_length_of_url_gets_problem_json_on_api_paths():
    token = _token(UserFactory(roles=[Role.PLANNER]))
    limit = settings.API_MAX_URL_BYTES
    with serve() as base:

        def get(length: int) -> requests.Response:
            path = "/api/v1/me?pad="
            url = base + path + "x" * (length - len(path))
            return requests.get(url, headers={"Authorization": token}, timeout=30)

        assert get(limit).status_code == 200
        answers = {length: get(length) for length in (limit + 1, 6000, 8150)}
        far = {length: get(length) for length in (8200, 20_000)}
        english = requests.get(
            base + "/api/v1/me?pad=" + "x" * 6000,
            headers={"Authorization": token, "Accept-Language": "en"},
            timeout=30,
        )
        malformed = {
            "not http": raw(base, b"GARBAGE\r\n\r\n"),
            "header too large": raw(
                base,
                b"GET /api/v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: "
                + b"x" * 9000
                + b"\r\n\r\n",
            ),
            "too many headers": raw(
                base,
                b"GET /api/v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + b"".join(b"X-H%d: 1\r\n" % n for n in range(150))
                + b"\r\n",
            ),
        }
    for length, answer in answers.items():
        # Django's answer: localised, with the request's id.
        body = assert_problem(
            answer.status_code, dict(answer.headers), answer.content, 414, "uri_too_long"
        )
        assert str(limit) in body["detail"], length
        assert answer.headers["X-Request-ID"]
    assert english.json()["title"] == "URI Too Long"
    for length, answer in far.items():
        # gunicorn's answer, before Django: the same shape, in the default language.
        assert_problem(
            answer.status_code, dict(answer.headers), answer.content, 414, "uri_too_long"
        )
        assert answer.json()["title"] == "URI 过长", length
    status, headers, body = malformed["not http"]
    assert_problem(status, headers, body, 400, "bad_request")
    for name in ("header too large", "too many headers"):
        status, headers, body = malformed[name]
        assert status in (400, 431), name
        assert headers["content-type"] == PROBLEM, name


def test_web_pages_are_not_limited_by_the_api_limit(client):
    # Django's test client: no gunicorn. The limit is the API's, documented as such.
    url = "/accounts/login/?next=/" + "x" * 6000
    assert client.get(url).status_code == 200
    answer = client.get("/api/v1/me?pad=" + "x" * 6000)
    assert answer.status_code == 414
    assert answer["Content-Type"] == PROBLEM
