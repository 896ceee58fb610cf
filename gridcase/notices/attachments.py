"""Files attached to a notice (a PDF of the water company's notice, a map, a form): type by content, size capped.

Only the notice's publisher side (a publisher on its grid) attaches, and only up to MAX_FILES. The type is decided
by the file's first bytes, not its name; anything not a PDF, an image or an Office document is refused. Files are
served by scoped views (staff and recipients; the public board for residents' notices) through `core.files.send`.
"""

from django.utils.translation import gettext_lazy as _

from gridcase.core.errors import ValidationFailed

from .models import NoticeAttachment
from .publishing import check_manages_notice

MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 5
# (magic prefix, extension, content type)
SIGNATURES = [
    (b"%PDF-", "pdf", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "png", "image/png"),
    (b"\xff\xd8\xff", "jpg", "image/jpeg"),
    (b"PK\x03\x04", None, None),  # docx / xlsx / pptx: a zip; the name says which
]
OFFICE = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def sniff(head: bytes, name: str) -> tuple[str, str] | None:
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    for magic, kind, content_type in SIGNATURES:
        if head.startswith(magic):
            if kind is None:
                return (ext, OFFICE[ext]) if ext in OFFICE else None
            return kind, content_type
    return None


def add_attachment(actor, notice, upload) -> NoticeAttachment:
    check_manages_notice(actor, notice)
    if upload is None:
        raise ValidationFailed(fields={"file": [_("Choose a file.")]})
    if upload.size > MAX_BYTES:
        raise ValidationFailed(_("The file is larger than 10 MB."), code="too_large", status=413)
    if notice.attachments.count() >= MAX_FILES:
        raise ValidationFailed(fields={"file": [_("At most %(n)d files.") % {"n": MAX_FILES}]},
                               code="too_many_files")
    head = upload.read(8)
    upload.seek(0)
    found = sniff(head, upload.name or "")
    if found is None:
        raise ValidationFailed(_("Attach a PDF, an image (JPEG, PNG) or a Word or Excel file."),
                               code="unsupported_media_type", status=415)
    ext, content_type = found
    name = (upload.name or f"file.{ext}")[-200:]
    upload.name = f"upload.{ext}"
    return NoticeAttachment.objects.create(notice=notice, file=upload, original_name=name,
                                           content_type=content_type, size=upload.size, uploaded_by=actor)
