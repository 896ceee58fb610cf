"""Protection of residents' personal data (phone and ID numbers).

Values are encrypted at rest (Fernet) and also kept as a masked form and a keyed hash, so lists,
search by phone tail and de-duplication on import never need to decrypt.
"""

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


@lru_cache(maxsize=1)
def _key() -> bytes:
    configured = settings.FIELD_ENCRYPTION_KEY
    if configured:
        return configured.encode()
    digest = hashlib.sha256(("gridcase-field-key:" + settings.SECRET_KEY).encode()).digest()
    return base64.urlsafe_b64encode(digest)


@lru_cache(maxsize=1)
def _fernet() -> Fernet:
    return Fernet(_key())


def encrypt(value: str) -> str:
    if not value:
        return ""
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return ""


def keyed_hash(value: str) -> str:
    """Stable, keyed digest used to find duplicates without storing the clear value."""
    if not value:
        return ""
    return hmac.new(_key(), value.strip().upper().encode(), hashlib.sha256).hexdigest()


def mask_phone(phone: str) -> str:
    phone = (phone or "").strip()
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_id_number(id_number: str) -> str:
    value = (id_number or "").strip()
    if len(value) < 8:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
