"""Views of the foundation: sign-in, profile, organisation. Parse, call, answer."""

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers as s
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from audits.api import serializers as out
from audits.api.pagination import CursorPage
from audits.api.throttling import AuthIPThrottle
from audits.api.util import valid as _valid
from audits.choices import Level, Role
from audits.middleware import client_ip
from audits.models import Unit, User
from audits.selectors import org
from audits.services import accounts
from audits.visibility import visible

# Sign-in views manage their own transactions: a refused login and a replayed refresh
# token must leave their audit event and revocation behind although the request fails.
non_atomic = method_decorator(transaction.non_atomic_requests, name="dispatch")


@non_atomic
class TokenView(APIView):
    """Sign in on a device: `{username, password, device_id}` → `{access, refresh}`."""

    # The sign-in limits are the verb's, the same for every way in (docs/OPERATIONS.md).
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=out.TokenIn, responses={200: out.TokenOut})
    def post(self, request):
        data = _valid(out.TokenIn, request.data)
        pair = accounts.session_login(**data, address=client_ip(request))
        return Response({"access": pair.access, "refresh": pair.refresh})


@non_atomic
class RefreshView(APIView):
    """Rotate a refresh token: the old one is spent, a reused one ends the device session."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [AuthIPThrottle]

    @extend_schema(request=out.RefreshIn, responses={200: out.TokenOut})
    def post(self, request):
        pair = accounts.session_refresh(**_valid(out.RefreshIn, request.data))
        return Response({"access": pair.access, "refresh": pair.refresh})


@non_atomic
class LogoutView(APIView):
    """End the device session of this refresh token: its access tokens stop working too."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [AuthIPThrottle]

    @extend_schema(request=out.RefreshIn, responses={204: None})
    def post(self, request):
        accounts.session_logout(**_valid(out.RefreshIn, request.data))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(responses=out.MeOut)
    def get(self, request):
        user = request.user
        user.my_teams = list(org.teams_of(user))
        return Response(out.MeOut(user).data)


class UnitPage(CursorPage):
    ordering = "path"


class UnitList(ListAPIView):
    serializer_class = out.UnitOut
    pagination_class = UnitPage

    @extend_schema(
        parameters=[
            OpenApiParameter("parent", str, description="id of the parent unit"),
            OpenApiParameter("level", str, enum=out.LEVELS),
            OpenApiParameter("q", str, description="name contains, or code starts with"),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = _valid(UnitFilter, self.request.query_params)
        parent = params.get("parent")
        if parent is not None:
            parent = get_object_or_404(visible(self.request.user, Unit), pk=parent)
        return org.units_for(
            self.request.user, parent=parent, level=params.get("level"), q=params.get("q")
        )


class UnitFilter(s.Serializer):
    parent = s.UUIDField(required=False)
    level = s.ChoiceField(choices=Level.choices, required=False)
    q = s.CharField(required=False, max_length=100)


class UnitDetail(RetrieveAPIView):
    serializer_class = out.UnitOut

    def get_queryset(self):
        return visible(self.request.user, Unit)


class OfficialFilter(s.Serializer):
    unit = s.UUIDField(required=False)


class OfficialList(ListAPIView):
    serializer_class = out.OfficialOut

    @extend_schema(parameters=[OpenApiParameter("unit", str, description="unit id")])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = _valid(OfficialFilter, self.request.query_params)
        unit = _unit_or_404(self.request.user, params.get("unit"))
        return org.officials_for(self.request.user, unit=unit)


class OfficialDetail(RetrieveAPIView):
    serializer_class = out.OfficialOut

    def get_queryset(self):
        return org.officials_for(self.request.user)


class UserFilter(s.Serializer):
    role = s.ChoiceField(choices=Role.choices, required=False)
    unit = s.UUIDField(required=False)
    q = s.CharField(required=False, max_length=100)


class UserList(ListAPIView):
    serializer_class = out.UserOut

    @extend_schema(
        parameters=[
            OpenApiParameter("role", str, enum=[r for r, _ in Role.choices]),
            OpenApiParameter("unit", str, description="home unit id"),
            OpenApiParameter("q", str, description="username or display name contains"),
        ]
    )
    def get(self, request, *args, **kwargs):
        if not request.user.has_role(Role.PLANNER, Role.AUDITOR):
            raise PermissionDenied(_("只有组织部门和审计员可以查看用户列表。"))
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = _valid(UserFilter, self.request.query_params)
        unit = _unit_or_404(self.request.user, params.get("unit"))
        return org.users_for(
            self.request.user, role=params.get("role"), unit=unit, q=params.get("q")
        )


def _unit_or_404(user: User, unit_id):
    if unit_id is None:
        return None
    return get_object_or_404(visible(user, Unit), pk=unit_id)
