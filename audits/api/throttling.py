"""Throttles on sign-in: per client address and per attempted username."""

import hashlib

from rest_framework.throttling import SimpleRateThrottle

from audits.services.accounts import normalize_username


class AuthIPThrottle(SimpleRateThrottle):
    scope = "auth_ip"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AuthUsernameThrottle(SimpleRateThrottle):
    scope = "auth_username"

    def get_cache_key(self, request, view) -> str | None:
        data = request.data if isinstance(request.data, dict) else {}
        username = data.get("username")
        if not isinstance(username, str) or not username:
            return None
        # The name authentication will see, hashed: any spelling the form treats as the same
        # name counts against the same limit, and the key stays short and plain.
        ident = hashlib.sha256(normalize_username(username).encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}
