"""GET /notifications (the caller's own notices, newest first) and marking one as read."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers as s
from rest_framework.response import Response

from audits.api.base import Endpoint, ListEndpoint
from audits.api.pagination import CursorPage
from audits.api.serializers import NotificationOut
from audits.api.util import valid
from audits.selectors.notifications import notifications_for
from audits.services import notifications


class NotificationFilter(s.Serializer):
    unread = s.BooleanField(required=False, default=False)
    kind = s.CharField(required=False, max_length=32)


class NewestFirst(CursorPage):
    ordering = ("-created_at", "id")


class NotificationList(ListEndpoint):
    serializer_class = NotificationOut
    pagination_class = NewestFirst

    @extend_schema(
        parameters=[
            OpenApiParameter("unread", bool, description="only notices not read yet"),
            OpenApiParameter("kind", str),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = valid(NotificationFilter, self.request.query_params)
        return notifications_for(self.request.user, **params)


class NotificationRead(Endpoint):
    @extend_schema(request=None, responses=NotificationOut)
    def post(self, request, pk):
        notice = notifications.notification_read(actor=request.user, notification_id=pk)
        return Response(NotificationOut(notice).data)
