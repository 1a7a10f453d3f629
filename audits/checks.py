"""System checks of the configuration: `manage.py check --deploy`, and every start of the web
server, the worker and beat (server/startup.py), where an error stops the process."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

AUDIT_KEYS = "audit_keys"


@register(AUDIT_KEYS, deploy=True)
def audit_keys_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Production seals the trail with keys of its own, never with ones derived from
    SECRET_KEY: whoever holds SECRET_KEY (every web process) could forge a sealed head."""
    derived = list(settings.AUDIT_KEYS_DERIVED)
    if not derived:
        return []
    names = " and ".join(derived)
    hint = (
        "Set AUDIT_HMAC_KEY and AUDIT_SIGNING_KEY in the environment (each base64 of 32 "
        "random bytes, e.g. `openssl rand -base64 32`), held outside the database: "
        'docs/AUDIT.md, "Keys and configuration".'
    )
    if settings.DEBUG:
        return [
            Warning(
                f"{names} not set: the audit trail is sealed with keys derived from "
                "SECRET_KEY, which is for development only.",
                hint=hint,
                id="audits.W001",
            )
        ]
    return [
        Error(
            f"{names} not set: with DEBUG off the service does not seal the audit trail "
            "with keys derived from SECRET_KEY.",
            hint=hint,
            id="audits.E001",
        )
    ]
