"""Small helpers shared by the API views."""

from typing import Any

from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404
from rest_framework import serializers as s
from rest_framework.response import Response

from audits.errors import MESSAGES, ErrorCode
from audits.models import User
from audits.visibility import visible


class ClientId(s.UUIDField):
    """The `id` of a create, chosen by the client: a UUID other than the nil and max ones.

    Malformed and reserved ids are refused with the very answer an id taken by something
    the caller may not see gets (audits.errors.IdUnusable), so the two cannot be told apart.
    """

    RESERVED = (0, (1 << 128) - 1)

    def to_internal_value(self, data: Any) -> Any:
        try:
            value = super().to_internal_value(data)
        except s.ValidationError:
            value = None
        if value is None or value.int in self.RESERVED:
            code = ErrorCode.ID_UNUSABLE
            raise s.ValidationError(MESSAGES[code], code=code)
        return value


def valid(serializer_class: type[s.Serializer], data: Any) -> dict:
    """Validated input, or a 400 problem naming the fields."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def seen(user: User, model: type[Model], pk: Any, queryset: QuerySet | None = None) -> Any:
    """The object if the user may see it, else the same 404 as a missing one."""
    return get_object_or_404(queryset if queryset is not None else visible(user, model), pk=pk)


def referenced(user: User, model: type[Model], pk: Any, field: str) -> Any:
    """An object named in a request body: unseen or missing is a field error (400)."""
    row = visible(user, model).filter(pk=pk).first() if pk is not None else None
    if row is None:
        raise s.ValidationError({field: ["不存在或不可见。"]})
    return row


def versioned(data: dict, obj: Any, status: int = 200) -> Response:
    """An answer carrying the object's version as its ETag."""
    return Response(data, status=status, headers={"ETag": f'"{obj.version}"'})
