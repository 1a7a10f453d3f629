"""Production refuses development audit keys: with DEBUG off, no process of the service starts
while AUDIT_HMAC_KEY or AUDIT_SIGNING_KEY is unset (docs/AUDIT.md, "Keys and configuration")."""

import os
import subprocess
import sys

import pytest
from django.core import checks

from audits.checks import AUDIT_KEYS
from tests.conftest import ROOT

BIN = os.path.dirname(sys.executable)


def _found(settings, *, debug: bool, derived: list[str]) -> list:
    settings.DEBUG = debug
    settings.AUDIT_KEYS_DERIVED = derived
    return checks.run_checks(tags=[AUDIT_KEYS], include_deployment_checks=True)


def test_the_check_is_an_error_with_debug_off_a_warning_with_it_on_and_silent_with_keys(settings):
    (error,) = _found(settings, debug=False, derived=["AUDIT_SIGNING_KEY"])
    assert (error.id, error.is_serious()) == ("audits.E001", True)
    assert "AUDIT_SIGNING_KEY" in error.msg
    assert "AUDIT_HMAC_KEY" in error.hint  # says what to set
    (warning,) = _found(settings, debug=True, derived=["AUDIT_HMAC_KEY", "AUDIT_SIGNING_KEY"])
    assert (warning.id, warning.is_serious()) == ("audits.W001", False)
    assert _found(settings, debug=False, derived=[]) == []


def _without_keys() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDIT_") and k != "DEBUG"}
    env["DJANGO_SETTINGS_MODULE"] = "server.settings"
    return env


@pytest.mark.parametrize(
    ("name", "command", "exit_code"),
    [
        ("manage.py check --deploy", [sys.executable, "manage.py", "check", "--deploy"], 1),
        ("gunicorn", [f"{BIN}/gunicorn", "server.wsgi", "-b", "127.0.0.1:0", "-w", "1"], 3),
        (
            "celery worker",
            [f"{BIN}/celery", "-A", "server", "worker", "--pool", "solo", "-Q", "none"],
            1,
        ),
        # Beat's schedule file in the test's own folder: beat deletes and recreates a file
        # it cannot open as its schedule, whatever file that is.
        ("celery beat", [f"{BIN}/celery", "-A", "server", "beat", "-s", "{tmp}/schedule"], 1),
    ],
)
def test_no_process_starts_with_debug_off_and_derived_keys(name, command, exit_code, tmp_path):
    done = subprocess.run(
        [part.format(tmp=tmp_path) for part in command],
        cwd=ROOT,
        env={**_without_keys(), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == exit_code, output[-3000:]
    assert "audits.E001" in output
    assert "AUDIT_HMAC_KEY and AUDIT_SIGNING_KEY not set" in output
