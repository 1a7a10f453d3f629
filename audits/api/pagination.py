"""Cursor pagination for every list: stable under inserts, no COUNT(*) of what exists.

DRF's cursor is base64 of `o=&r=&p=`, and its position goes straight into the list's
`WHERE`: a forged `p=\\x00` or `p=notadate` reached the database (500). Ours is signed for
the list and the user it was issued to, so only positions this server wrote come back; any
other cursor, or one issued for another list or user, is 400 `invalid_cursor`.
"""

from django.core import signing
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.utils.urls import replace_query_param

from audits.errors import ErrorCode

SALT = "duchaa.list-cursor"


class InvalidCursor(ValidationError):
    default_code = ErrorCode.INVALID_CURSOR

    def __init__(self) -> None:
        message = _("分页游标无效，请从第一页重新开始。")
        super().__init__({"cursor": [message]}, code=ErrorCode.INVALID_CURSOR)


class CursorPage(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "id"

    def paginate_queryset(self, queryset, request, view=None):
        user = getattr(request, "user", None)
        ordering = self.get_ordering(request, queryset, view)
        self._salt = f"{SALT}:{request.path}:{','.join(ordering)}:{getattr(user, 'pk', '')}"
        return super().paginate_queryset(queryset, request, view)

    def encode_cursor(self, cursor: Cursor) -> str:
        state = [cursor.offset, int(cursor.reverse), cursor.position]
        encoded = signing.dumps(state, salt=self._salt, compress=True)
        return replace_query_param(self.base_url, self.cursor_query_param, encoded)

    def decode_cursor(self, request) -> Cursor | None:
        encoded = request.query_params.get(self.cursor_query_param)
        if not encoded:
            return None
        try:
            offset, reverse, position = signing.loads(encoded, salt=self._salt)
        except (signing.BadSignature, TypeError, ValueError) as exc:
            raise InvalidCursor() from exc
        if not (
            isinstance(offset, int)
            and 0 <= offset <= self.offset_cutoff
            and reverse in (0, 1)
            and (position is None or isinstance(position, str))
        ):
            raise InvalidCursor()
        return Cursor(offset=offset, reverse=bool(reverse), position=position)
