"""The OpenRosa 1.0 documents and headers, as pure builders (bytes in UTF-8).

Form List API: `<xforms>` in the xformsList namespace, one `<xform>` per form with formID,
name, version, hash, downloadUrl and (when the form has media) manifestUrl; the manifest:
`<manifest>` in the xformsManifest namespace with one `<mediaFile>` per file; transactional
answers (a submission): `<OpenRosaResponse>` with one `<message nature="…">`. Every OpenRosa
response carries `X-OpenRosa-Version: 1.0`; submission answers (HEAD included) also carry
`X-OpenRosa-Accept-Content-Length`. References: docs/ODK.md.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final
from xml.etree.ElementTree import Element, SubElement, tostring

OPENROSA_VERSION: Final = "1.0"
VERSION_HEADER: Final = "X-OpenRosa-Version"
ACCEPT_CONTENT_LENGTH_HEADER: Final = "X-OpenRosa-Accept-Content-Length"
CONTENT_TYPE: Final = "text/xml; charset=utf-8"
# The spec calls 10 MB "a reasonable lower limit" for splitting a submission.
DEFAULT_ACCEPT_CONTENT_LENGTH: Final = 10 * 1024 * 1024

FORM_LIST_NS: Final = "http://openrosa.org/xforms/xformsList"
MANIFEST_NS: Final = "http://openrosa.org/xforms/xformsManifest"
RESPONSE_NS: Final = "http://openrosa.org/http/response"


class Nature(enum.StrEnum):
    """The `nature` of a response message: clients show one message per nature."""

    SUBMIT_SUCCESS = "submit_success"
    ERROR = "error"


@dataclass(frozen=True)
class FormListEntry:
    form_id: str
    name: str
    version: str
    hash: str  # "md5:<hex>" of the XForm's bytes
    download_url: str
    manifest_url: str | None = None
    description_text: str | None = None


@dataclass(frozen=True)
class ManifestEntry:
    filename: str
    hash: str
    download_url: str


def headers(*, accept_content_length: int | None = None) -> dict[str, str]:
    """Headers every OpenRosa answer carries; the limit for submission answers."""
    out = {VERSION_HEADER: OPENROSA_VERSION}
    if accept_content_length is not None:
        if accept_content_length <= 0:
            raise ValueError("accept_content_length must be positive")
        out[ACCEPT_CONTENT_LENGTH_HEADER] = str(accept_content_length)
    return out


def is_openrosa_request(request_headers: dict[str, str]) -> bool:
    """Whether a request says it speaks OpenRosa 1.0 (header names are case-insensitive)."""
    for name, value in request_headers.items():
        if name.lower() == VERSION_HEADER.lower():
            return value.strip() == OPENROSA_VERSION
    return False


def form_list(entries: Iterable[FormListEntry], *, verbose: bool = False) -> bytes:
    """The Form List API document; descriptions only when the client asked `verbose=true`."""
    root = Element("xforms", xmlns=FORM_LIST_NS)
    for entry in entries:
        _check_hash(entry.hash)
        xform = SubElement(root, "xform")
        _leaf(xform, "formID", entry.form_id)
        _leaf(xform, "name", entry.name)
        _leaf(xform, "version", entry.version)
        _leaf(xform, "hash", entry.hash)
        if verbose and entry.description_text:
            _leaf(xform, "descriptionText", entry.description_text)
        _leaf(xform, "downloadUrl", entry.download_url)
        if entry.manifest_url:
            _leaf(xform, "manifestUrl", entry.manifest_url)
    return _document(root)


def manifest(entries: Iterable[ManifestEntry]) -> bytes:
    """The manifest of a form's media files."""
    root = Element("manifest", xmlns=MANIFEST_NS)
    for entry in entries:
        _check_hash(entry.hash)
        _check_filename(entry.filename)
        media = SubElement(root, "mediaFile")
        _leaf(media, "filename", entry.filename)
        _leaf(media, "hash", entry.hash)
        _leaf(media, "downloadUrl", entry.download_url)
    return _document(root)


def response(message: str, *, nature: Nature = Nature.SUBMIT_SUCCESS) -> bytes:
    """The OpenRosaResponse envelope of a submission answer (success or error)."""
    root = Element("OpenRosaResponse", xmlns=RESPONSE_NS, items="0")
    _leaf(root, "message", message).set("nature", str(nature))
    return _document(root)


def _leaf(parent: Element, tag: str, text: str) -> Element:
    if any(ord(c) < 0x20 and c not in "\t\n\r" for c in text):
        # XML 1.0 cannot carry them at all, not even escaped.
        raise ValueError(f"{tag} holds a control character")
    element = SubElement(parent, tag)
    element.text = text
    return element


def _check_hash(value: str) -> None:
    digest = value.removeprefix("md5:")
    if not value.startswith("md5:") or len(digest) != 32 or digest.strip("0123456789abcdef"):
        raise ValueError(f"{value!r} is not an OpenRosa md5 hash")


def _check_filename(name: str) -> None:
    # The spec: an un-rooted path, no drive, no `.` or `..` segments.
    segments = name.replace("\\", "/").split("/")
    if (
        not name
        or name.startswith(("/", "\\"))
        or (len(name) > 1 and name[1] == ":")
        or any(s in ("", ".", "..") for s in segments)
    ):
        raise ValueError(f"{name!r} is not an un-rooted relative file name")


def _document(root: Element) -> bytes:
    return b"<?xml version='1.0' encoding='UTF-8'?>\n" + tostring(root, encoding="unicode").encode(
        "utf-8"
    )
