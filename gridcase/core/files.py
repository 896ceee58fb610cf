"""Handing a stored upload to a caller who may read it.

Uploaded files (case photos, visit photos) have no public URL. A scoped view (api/files.py) decides who
may read which file and then calls `send`, which hands the bytes over:
- in production (`MEDIA_ACCEL_REDIRECT=true`) to nginx, with an `X-Accel-Redirect` header naming the
  file under an `internal` location (`MEDIA_ACCEL_PREFIX`, see deploy/nginx.conf), so no Python process
  streams photos;
- in development with a streamed `FileResponse`.
Either way the answer is `Cache-Control: private, no-store` (photos of people and their homes stay out of
shared caches and the browser's disk cache) and `X-Content-Type-Options: nosniff`.

New uploads are stored under random names (`random_name`): a file name says nothing about the case,
visit or person, and cannot be guessed from ids or `client_uuid`s shown in lists.
"""

import secrets
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.http import FileResponse, HttpResponse

from .errors import NotFound

PRIVATE_NO_STORE = "private, no-store"
# The only types uploads are served as; anything else goes out as a download that no browser renders.
IMAGE_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp",
               "gif": "image/gif"}


def random_name(ext: str) -> str:
    """A file name nobody can guess (128 random bits) with the given extension."""
    ext = "".join(c for c in (ext or "").lower() if c.isalnum())[:5] or "bin"
    return f"{secrets.token_hex(16)}.{ext}"


def content_type_of(name: str) -> str:
    ext = name.rsplit(".", 1)[-1].lower() if "." in (name or "") else ""
    return IMAGE_TYPES.get(ext, "application/octet-stream")


def _local_path(fieldfile) -> str:
    """The file's path on disk; a missing file or a name escaping the storage root is simply not found."""
    name = getattr(fieldfile, "name", "") or ""
    if not name:
        raise NotFound()
    try:
        path = fieldfile.storage.path(name)
    except (SuspiciousFileOperation, NotImplementedError, ValueError):
        raise NotFound()
    if not fieldfile.storage.exists(name):
        raise NotFound()
    return path


def send(fieldfile, content_type: str) -> HttpResponse:
    """The response carrying `fieldfile`'s bytes (the caller has already checked the reader's scope)."""
    path = _local_path(fieldfile)
    if settings.MEDIA_ACCEL_REDIRECT:
        response = HttpResponse(content_type=content_type)
        prefix = settings.MEDIA_ACCEL_PREFIX.rstrip("/")
        response["X-Accel-Redirect"] = f"{prefix}/{quote(fieldfile.name)}"
    else:
        try:
            handle = open(path, "rb")  # noqa: SIM115 - FileResponse closes it when the response is sent
        except OSError:
            raise NotFound()
        response = FileResponse(handle, content_type=content_type)
    if content_type not in IMAGE_TYPES.values():
        response["Content-Disposition"] = "attachment"
    response["Cache-Control"] = PRIVATE_NO_STORE
    response["X-Content-Type-Options"] = "nosniff"
    return response
