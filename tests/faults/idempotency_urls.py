"""Test-only views for `Idempotency-Key` (tests/api/test_idempotency.py, the race tests).

Each view writes one `Unit` (one row per change, easy to count) and answers the way the
project's views do. Served in-process with `@pytest.mark.urls` and by gunicorn through
tests/faults/idempotency_settings.py.
"""

import os
import time

from django.db import transaction
from django.urls import path
from django.utils.decorators import method_decorator
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from audits.api.base import Endpoint
from audits.models import Unit
from server.urls import urlpatterns as site


def _create(request) -> Unit:
    data = request.data
    unit = Unit.objects.create(code=data["code"], name=data.get("name", "幂等测试"), level="city")
    if data.get("sleep"):
        time.sleep(float(data["sleep"]))  # "the first request is still running"
    if data.get("fail"):
        # After the write: the request's rollback must take the row and the claim with it.
        raise ValidationError({"code": ["拒绝（测试）。"]})
    return unit


def _answer(unit: Unit) -> Response:
    return Response(
        {"id": unit.pk, "code": unit.code, "name": unit.name, "path": unit.path},
        status=201,
        headers={"Location": f"/api/test-idem/units/{unit.pk}"},
    )


class TestEndpoint(Endpoint):
    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # Which process answered, replays included (the header is not stored, hence here).
        response["X-Worker-Pid"] = str(os.getpid())
        return response


class UnitCreate(TestEndpoint):
    def post(self, request):
        return _answer(_create(request))


class RefuseWithoutRaising(TestEndpoint):
    """A 4xx answer returned, not raised: DRF's handler does not roll anything back."""

    def post(self, request):
        return Response({"detail": "refused"}, status=409)


class ReadsBodyFirst(IsAuthenticated):
    """A permission that looks at the body (before the mixin's fingerprint)."""

    def has_permission(self, request, view):
        return super().has_permission(request, view) and "code" in request.data


class CheckedUnitCreate(UnitCreate):
    permission_classes = [ReadsBodyFirst]


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class NonAtomicUnitCreate(TestEndpoint):
    """A view that manages its own transactions (as the photo uploads do)."""

    def post(self, request):
        with transaction.atomic():
            return _answer(_create(request))


urlpatterns = [
    path("api/test-idem/units", UnitCreate.as_view()),
    path("api/test-idem/checked-units", CheckedUnitCreate.as_view()),
    path("api/test-idem/refuse", RefuseWithoutRaising.as_view()),
    path("api/test-idem/non-atomic-units", NonAtomicUnitCreate.as_view()),
    *site,
]
