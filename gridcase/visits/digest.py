"""The fingerprint of what a phone sent, so a resend of the same thing (same client_uuid) is recognised and a
different thing under a used client_uuid is refused (visits and patrol entries)."""

import hashlib
import json


def content_digest(canonical: dict, photo=None) -> str:
    """SHA-256 over the canonical fields (sorted JSON) and, if there is one, the photo's bytes."""
    canonical = dict(canonical)
    if photo:
        digest = hashlib.sha256()
        for chunk in photo.chunks():
            digest.update(chunk)
        photo.seek(0)
        canonical["photo"] = digest.hexdigest()
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
