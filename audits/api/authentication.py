"""Bearer tokens bound to a device session: logging out a device ends its access tokens too."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings

from audits.errors import MESSAGES, ErrorCode
from audits.models import DeviceSession, User


class DeviceJWTAuthentication(JWTAuthentication):
    www_authenticate_realm = "api"

    def get_user(self, validated_token) -> User:
        session = (
            DeviceSession.objects.select_related("user", "user__unit")
            .filter(id=validated_token.get("sid"), revoked_at__isnull=True)
            .first()
        )
        user_id = str(validated_token.get(api_settings.USER_ID_CLAIM, ""))
        if session is None or str(session.user_id) != user_id or not session.user.is_active:
            code = ErrorCode.TOKEN_NOT_VALID
            raise AuthenticationFailed(MESSAGES[code], code=code)
        return session.user


class DeviceJWTScheme(OpenApiAuthenticationExtension):
    """Describes the bearer tokens in the OpenAPI document."""

    target_class = DeviceJWTAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
