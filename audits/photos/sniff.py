"""The type of an upload, from its first bytes only."""

HEAD_BYTES = 32
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}


def sniff(head: bytes) -> str | None:
    """`image/jpeg`, `image/png`, `image/heic`, or None for anything else."""
    if head[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "image/heic"
    return None


EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/heic": "heic"}
