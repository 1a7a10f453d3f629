"""Receiving photo bytes: streamed to a temporary file while hashed and counted.

Nothing here decodes an image or keeps more than one chunk in memory. A body over the
limit stops being read the moment it crosses it. `receive_photo` is the whole of reading
POST /photos: every way its body can be wrong is the domain's error, the view only parses
the fields it gets back.
"""

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers
from django.http import HttpRequest, QueryDict, UnreadablePostError
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.utils.translation import gettext as _

from audits.errors import (
    DomainError,
    ErrorCode,
    Invalid,
    PayloadTooLarge,
    Unprocessable,
    UnsupportedType,
)
from audits.photos.sniff import HEAD_BYTES, sniff
from audits.photos.storage import new_tmp_file

CHUNK = 256 * 1024


class TooLarge(Exception):
    """The body crossed the size limit while streaming."""


class ExtraFile(Exception):
    """A multipart body with more than the one `file` part."""


class Interrupted(Exception):
    """The request body stopped arriving (the client went away mid-body)."""


def unsupported() -> UnsupportedType:
    return UnsupportedType(_("只接受 JPEG、PNG 或 HEIC 图片。"))


def too_large() -> PayloadTooLarge:
    return PayloadTooLarge(
        _("照片过大：上限 %(limit)d 字节。") % {"limit": settings.PHOTO_MAX_BYTES},
        code=ErrorCode.PHOTO_TOO_LARGE,
    )


def interrupted() -> DomainError:
    # The client went away mid-body: nobody may read this answer, but nothing is kept.
    return DomainError(code=ErrorCode.BODY_INCOMPLETE)


def sha_mismatch() -> Unprocessable:
    return Unprocessable(code=ErrorCode.SHA256_MISMATCH)


@dataclass
class Received:
    """A complete temporary file with its digest, size and first bytes."""

    path: str
    sha256: str
    size: int
    head: bytes

    def __bool__(self) -> bool:  # Django keeps a handler's result only when it is truthy
        return True

    @property
    def content_type(self) -> str | None:
        return sniff(self.head)

    def discard(self) -> None:
        if self.path and os.path.exists(self.path):
            os.unlink(self.path)

    # Django's parser closes the files it collected when parsing fails: that removes ours.
    close = discard


class HashingUploadHandler(FileUploadHandler):
    """Multipart `file` → a temporary file under MEDIA_ROOT/tmp, hashed and counted."""

    chunk_size = CHUNK

    def __init__(self, request=None, *, limit: int, before_file=None) -> None:
        super().__init__(request)
        self.limit = limit
        self.before_file = before_file
        self.received: Received | None = None
        self._fd: int | None = None
        self._path = ""
        self._hash = hashlib.sha256()
        self._size = 0
        self._head = b""

    def new_file(
        self,
        field_name,
        file_name,
        content_type,
        content_length,
        charset=None,
        content_type_extra=None,
    ):
        super().new_file(
            field_name, file_name, content_type, content_length, charset, content_type_extra
        )
        if field_name != "file" or self._fd is not None or self.received is not None:
            raise ExtraFile(field_name)
        if self.before_file is not None:
            self.before_file()  # may refuse the request before its bytes are read
        self._fd, self._path = new_tmp_file()
        raise StopFutureHandlers()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self._size += len(raw_data)
        if self._size > self.limit:
            self.cleanup()
            raise TooLarge()
        self._hash.update(raw_data)
        if len(self._head) < HEAD_BYTES:
            self._head += raw_data[: HEAD_BYTES - len(self._head)]
        _write_all(self._fd, raw_data)

    def file_complete(self, file_size: int) -> Received:
        os.close(self._fd)
        self._fd = None
        self.received = Received(self._path, self._hash.hexdigest(), self._size, self._head)
        return self.received

    def upload_interrupted(self) -> None:
        self.cleanup()

    def cleanup(self) -> None:
        """Remove whatever was written (an aborted or refused upload keeps nothing)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._path and os.path.exists(self._path):
            os.unlink(self._path)
        self.received = None


def receive_multipart(
    request, *, limit: int, before_file: Callable[[QueryDict], None] | None = None
) -> tuple[QueryDict, Received | None]:
    """Parse a multipart request, streaming its one `file` part to a temporary file.

    Returns the other fields and the received file (None when there was no file).
    `before_file` is called with the fields read so far when the file part begins. Raises
    whatever stopped the parse (TooLarge, ExtraFile, Django's multipart and body errors, a
    broken connection, `before_file`) only after removing the temporary file: a failed parse
    keeps nothing.
    """
    handler = HashingUploadHandler(request, limit=limit)
    try:
        parser = MultiPartParser(
            request.META, request, [handler], request.encoding or settings.DEFAULT_CHARSET
        )
        if before_file is not None:
            # The parser collects fields as it goes (`_post`, set when parsing starts);
            # without it, the caller decides after the parse, once every field is known.
            handler.before_file = lambda: before_file(getattr(parser, "_post", QueryDict()))
        fields, _files = parser.parse()
    except BaseException:
        handler.cleanup()
        raise
    return fields, handler.received


def receive_photo(
    request: HttpRequest,
    *,
    before_file: Callable[[QueryDict], None] | None = None,
    after_parse: Callable[[QueryDict], None] | None = None,
) -> tuple[QueryDict, Received]:
    """POST /photos's multipart body: its fields and its one `file`, at most PHOTO_MAX_BYTES,
    streamed to a temporary file. `before_file` sees the fields read when the file begins,
    `after_parse` all of them before the file is required (both may refuse the request). A
    refusal keeps nothing; the caller owns the file returned (`Received.discard`)."""
    if not request.content_type.startswith("multipart/form-data"):
        raise unsupported()
    try:
        fields, received = receive_multipart(
            request, limit=settings.PHOTO_MAX_BYTES, before_file=before_file
        )
    except TooLarge as exc:
        raise too_large() from exc
    except ExtraFile as exc:
        raise Invalid({"file": [_("只能上传一个文件（字段 file）。")]}) from exc
    except RequestDataTooBig as exc:
        raise PayloadTooLarge() from exc
    except (MultiPartParserError, SuspiciousOperation) as exc:
        raise DomainError(_("multipart 格式错误。"), code=ErrorCode.PARSE_ERROR) from exc
    except UnreadablePostError as exc:
        raise interrupted() from exc
    try:
        if after_parse is not None:
            after_parse(fields)
        if received is None:
            raise Invalid({"file": [_("缺少文件。")]})
    except BaseException:
        if received is not None:
            received.discard()
        raise
    return fields, received


def hash_file(path: str) -> tuple[str, int, bytes]:
    """(sha256, size, head) of a file, read in chunks."""
    digest, size, head = hashlib.sha256(), 0, b""
    with open(path, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            if not head:
                head = chunk[:HEAD_BYTES]
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size, head


def append_stream(stream, path: str, offset: int, limit: int) -> int:
    """Write the request body at `offset` of the part file; at most `limit` bytes.

    Returns the number of bytes written. A body longer than `limit` raises TooLarge, a
    body that breaks off raises Interrupted; either way the part file is cut back to
    `offset` (what was there before stays valid).
    """
    written = 0
    fd = os.open(path, os.O_WRONLY)
    try:
        os.lseek(fd, offset, os.SEEK_SET)
        while chunk := _read(stream, fd, offset):
            written += len(chunk)
            if written > limit:
                os.ftruncate(fd, offset)
                raise TooLarge()
            _write_all(fd, chunk)
        os.ftruncate(fd, offset + written)
    finally:
        os.close(fd)
    return written


def _read(stream, fd: int, offset: int) -> bytes:
    try:
        return stream.read(CHUNK)
    except OSError as exc:  # Django's UnreadablePostError: the connection broke
        os.ftruncate(fd, offset)
        raise Interrupted() from exc


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
