"""Domain errors: each has an HTTP status and a snake_case code clients can branch on."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError


class DomainError(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = _("请求无效。")
    default_code = "invalid"


class WrongState(DomainError):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("对象当前状态不允许此操作。")
    default_code = "wrong_state"


class Conflict(DomainError):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("与现有数据冲突。")
    default_code = "conflict"


class PreconditionFailed(DomainError):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = _("对象已被修改，请刷新后重试。")
    default_code = "stale_version"


class PreconditionRequired(DomainError):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = _("修改需要 If-Match 请求头。")
    default_code = "if_match_required"


class Unprocessable(DomainError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = _("请求无法处理。")
    default_code = "unprocessable"


class PayloadTooLarge(DomainError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("请求体过大。")
    default_code = "payload_too_large"


ID_UNUSABLE = "id_unusable"


def unusable_id_message() -> str:
    return gettext("该 id 不可用，请换用新生成的 UUID。")


class IdUnusable(ValidationError):
    """A client-chosen id that cannot be used: taken by something the caller may not see.

    Malformed and reserved ids get exactly this answer from the serializers
    (`audits.api.util.ClientId`): 400, `id_unusable` on `id`, whatever the reason, so the
    answer never tells that an unseen object holds the id.
    """

    default_code = ID_UNUSABLE

    def __init__(self, field: str = "id") -> None:
        super().__init__({field: [unusable_id_message()]}, code=ID_UNUSABLE)
