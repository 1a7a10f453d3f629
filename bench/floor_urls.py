"""The app's URLs plus constant-body views, served by the same gunicorn through the same
middleware: the floor every API figure is compared with, and two steps on the way up.

- `bench/floor`: a bare Django view (no DRF, no database).
- `bench/drf`: a DRF view without authentication, permission or throttle.
- `bench/drf-jwt`: a DRF view with the API's authentication (device JWT: token check and the
  device-session lookup) and IsAuthenticated, no throttle.
- `bench/drf-auth`: a DRF view with all the API's defaults (the above plus the user throttle).
"""

from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from server.urls import handler400, handler403, handler404, handler500  # noqa: F401

BODY = {"ok": True, "service": "duchaa", "view": "constant"}


def floor(request: HttpRequest) -> JsonResponse:
    return JsonResponse(BODY)


class DrfBare(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    def get(self, request: Request) -> Response:
        return Response(BODY)


class DrfJwt(APIView):
    throttle_classes: list = []

    def get(self, request: Request) -> Response:
        return Response(BODY)


class DrfAuth(APIView):
    def get(self, request: Request) -> Response:
        return Response(BODY)


urlpatterns = [
    path("bench/floor", floor, name="bench-floor"),
    path("bench/drf", DrfBare.as_view(), name="bench-drf"),
    path("bench/drf-jwt", DrfJwt.as_view(), name="bench-drf-jwt"),
    path("bench/drf-auth", DrfAuth.as_view(), name="bench-drf-auth"),
    path("", include("server.urls")),
]
