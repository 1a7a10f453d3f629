"""Base classes of the API views: every POST honours `Idempotency-Key`."""

from rest_framework import generics
from rest_framework.views import APIView

from audits.api.replay import IdempotencyMixin


class Endpoint(IdempotencyMixin, APIView):
    """A plain endpoint."""


class ListEndpoint(IdempotencyMixin, generics.ListAPIView):
    """A cursor-paginated list."""
