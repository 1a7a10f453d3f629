"""The audit trail's API (auditors): events, CSV, verification, proofs, heads, public key.

Every path but the public key answers 404 to anyone who is not an auditor, exactly as a
path that does not exist. Logic lives in `audits/trail/`; these views parse and answer.
"""

from django.http import StreamingHttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers as s
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from audits.api.base import Endpoint, ListEndpoint
from audits.api.pagination import CursorPage
from audits.api.util import valid
from audits.services.trail import trail_export_record
from audits.trail import proofs, review
from audits.trail.seal import current_head
from audits.trail.verify import verify
from audits.visibility import reviews_trail


class AuditorsOnly(BasePermission):
    """Anyone else, signed in or not, gets the same 404 as a path that does not exist."""

    def has_permission(self, request, view) -> bool:
        if not reviews_trail(request.user):
            raise NotFound()
        return True


class CSVPassthrough(BaseRenderer):
    """Lets `?format=csv` and `Accept: text/csv` through; the view streams the body."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        # Only errors come here (problem+json, its content type set by the handler).
        return JSONRenderer().render(data, "application/json", renderer_context)


FILTER_PARAMETERS = [
    OpenApiParameter("actor", str, description="user id, or actor label (username, job:…)"),
    OpenApiParameter("action", str, description="e.g. finding.publish"),
    OpenApiParameter("object_type", str, description="e.g. finding"),
    OpenApiParameter("object_id", str),
    OpenApiParameter("from", OpenApiTypes.DATETIME, description="RFC 3339 time or date, inclusive"),
    OpenApiParameter("to", OpenApiTypes.DATETIME, description="RFC 3339 time or date, inclusive"),
]


class ActorOut(s.Serializer):
    id = s.IntegerField(allow_null=True)
    label = s.CharField()


class AuditEventOut(s.Serializer):
    seq = s.IntegerField()
    at = s.DateTimeField()
    actor = ActorOut(allow_null=True)
    action = s.CharField()
    operation = s.CharField()
    object_type = s.CharField()
    object_id = s.CharField()
    ip = s.CharField(allow_null=True)
    device_id = s.CharField()
    request_id = s.CharField()
    changes = s.DictField(help_text="{field: {before, after}}")
    hash = s.CharField(allow_null=True, help_text="the sealed leaf hash (hex), null until sealed")

    def to_representation(self, instance):
        return super().to_representation(review.as_item(instance))


class EventPage(CursorPage):
    ordering = "-seq"


def _csv_response(request, qs) -> StreamingHttpResponse:
    trail_export_record(actor=request.user, filters=request.query_params)
    response = StreamingHttpResponse(review.csv_lines(qs), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-events.csv"'
    return response


class AuditEventList(ListEndpoint):
    """Events, newest first, with the contract's filters; `?format=csv` streams them all."""

    permission_classes = [AuditorsOnly]
    serializer_class = AuditEventOut
    pagination_class = EventPage
    renderer_classes = [JSONRenderer, CSVPassthrough]

    @extend_schema(parameters=FILTER_PARAMETERS)
    def get(self, request, *args, **kwargs):
        if request.accepted_renderer.format == "csv":
            return _csv_response(request, self.get_queryset())
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return review.events(self.request.user, review.parse_filters(self.request.query_params))


class AuditEventCSV(Endpoint):
    """All matching events as CSV (UTF-8, oldest first), streamed in constant memory."""

    permission_classes = [AuditorsOnly]
    renderer_classes = [JSONRenderer, CSVPassthrough]

    @extend_schema(parameters=FILTER_PARAMETERS, responses={(200, "text/csv"): str})
    def get(self, request):
        filters = review.parse_filters(request.query_params)
        return _csv_response(request, review.events(request.user, filters))


class VerifyOut(s.Serializer):
    ok = s.BooleanField()
    checked = s.IntegerField(help_text="sealed sequence numbers checked (events and gaps)")
    head = s.DictField(allow_null=True)
    first_bad_seq = s.IntegerField(allow_null=True)
    events = s.IntegerField()
    gaps = s.ListField(child=s.IntegerField(), help_text="gap sequence numbers (first 1000)")
    gap_count = s.IntegerField()
    heads_checked = s.IntegerField()
    unsealed = s.IntegerField(help_text="events newer than the newest head")
    problems = s.ListField(child=s.DictField())
    seconds = s.FloatField()


class AuditVerify(Endpoint):
    """Walk everything sealed: `{ok, checked, head, first_bad_seq}` and details."""

    permission_classes = [AuditorsOnly]

    @extend_schema(responses=VerifyOut)
    def get(self, request):
        return Response(verify().as_dict())


class ProofIn(s.Serializer):
    tree_size = s.IntegerField(required=False, min_value=1)
    since = s.IntegerField(required=False, min_value=1)


class AuditEventProof(Endpoint):
    """Inclusion of one event in a signed head (default the newest; `?tree_size=`), and with
    `?since=` the consistency proof from an older head. Check it with `check_audit_proof`."""

    permission_classes = [AuditorsOnly]

    @extend_schema(
        parameters=[
            OpenApiParameter("tree_size", int, description="a signed head's size (default newest)"),
            OpenApiParameter("since", int, description="size of an older head you hold"),
        ],
        responses={200: dict},
    )
    def get(self, request, seq: int):
        params = valid(ProofIn, request.query_params)
        try:
            return Response(proofs.event_proof(seq, params.get("tree_size"), params.get("since")))
        except proofs.ProofError as exc:
            raise NotFound(_("该记录尚未封存，或没有这个树头。")) from exc


class ConsistencyIn(s.Serializer):
    first = s.IntegerField(min_value=1)
    second = s.IntegerField(required=False, min_value=1)


class AuditConsistency(Endpoint):
    """Consistency proof between two signed heads (`second` defaults to the newest)."""

    permission_classes = [AuditorsOnly]

    @extend_schema(
        parameters=[OpenApiParameter("first", int, required=True), OpenApiParameter("second", int)],
        responses={200: dict},
    )
    def get(self, request):
        params = valid(ConsistencyIn, request.query_params)
        try:
            return Response(proofs.consistency(params["first"], params.get("second")))
        except proofs.ProofError as exc:
            raise NotFound(_("没有这个树头。")) from exc


class AuditHead(Endpoint):
    """The newest signed head."""

    permission_classes = [AuditorsOnly]

    @extend_schema(responses={200: dict})
    def get(self, request):
        head = current_head()
        if head is None:
            raise NotFound(_("尚无签名树头。"))
        return Response(head.as_dict())


class AuditPublicKey(Endpoint):
    """The Ed25519 public key that verifies every head: public information."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(responses={200: dict})
    def get(self, request):
        return Response(proofs.public_key_info())
