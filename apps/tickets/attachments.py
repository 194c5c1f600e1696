"""Limits on ticket attachments: size, allowed types, and content that matches the claimed type.

Defaults below; override with settings.TICKETS_ATTACHMENT_MAX_BYTES,
settings.TICKETS_ATTACHMENT_TYPES ({".ext": "content/type"}) and
settings.TICKETS_ATTACHMENTS_PER_TICKET.
"""

from __future__ import annotations

from pathlib import PurePath

from django.conf import settings
from django.utils.translation import gettext as _

from apps.core.errors import InvalidInput

ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENTS_PER_TICKET = 50
ATTACHMENT_TYPES: dict[str, str] = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".txt": "text/plain",
    ".log": "text/plain",
    ".csv": "text/csv",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_ZIP = b"PK\x03\x04"


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        return exc.start >= len(head) - 3
    return True


# Magic numbers checked against the extension, so a renamed executable is refused.
_SNIFFERS = {
    "application/pdf": lambda head: head.startswith(b"%PDF-"),
    "image/png": lambda head: head.startswith(b"\x89PNG\r\n\x1a\n"),
    "image/jpeg": lambda head: head.startswith(b"\xff\xd8\xff"),
    "image/gif": lambda head: head[:6] in (b"GIF87a", b"GIF89a"),
    "image/webp": lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP",
    "text/plain": _looks_like_text,
    "text/csv": _looks_like_text,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (
        lambda head: head.startswith(_ZIP)
    ),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (
        lambda head: head.startswith(_ZIP)
    ),
}


def max_bytes() -> int:
    return int(getattr(settings, "TICKETS_ATTACHMENT_MAX_BYTES", ATTACHMENT_MAX_BYTES))


def max_per_ticket() -> int:
    return int(getattr(settings, "TICKETS_ATTACHMENTS_PER_TICKET", ATTACHMENTS_PER_TICKET))


def allowed_types() -> dict[str, str]:
    return dict(getattr(settings, "TICKETS_ATTACHMENT_TYPES", ATTACHMENT_TYPES))


def _human_size(size: int) -> str:
    if size >= 2**20:
        return f"{size / 2**20:g} MiB"
    return f"{size / 2**10:g} KiB"


def attachment_check(*, filename: str, size: int, head: bytes) -> str:
    """Return the content type for an upload, or raise InvalidInput(field="file") saying why not.

    `head` is the first bytes of the file (4 KiB is plenty).
    """
    if size <= 0:
        raise InvalidInput(_("The file is empty."), field="file")
    if size > max_bytes():
        raise InvalidInput(
            _("The file is larger than %(limit)s.") % {"limit": _human_size(max_bytes())},
            field="file",
        )
    suffix = PurePath(filename).suffix.lower()
    content_type = allowed_types().get(suffix)
    if content_type is None:
        raise InvalidInput(
            _("Files of type %(suffix)s are not accepted.") % {"suffix": suffix or "?"},
            field="file",
        )
    sniffer = _SNIFFERS.get(content_type)
    if sniffer is not None and not sniffer(head):
        raise InvalidInput(_("The file's content does not match its type."), field="file")
    return content_type
