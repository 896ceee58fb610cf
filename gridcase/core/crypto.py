"""Protection of residents' personal data (phone and ID numbers).

Values are encrypted at rest (Fernet) and also kept as a masked form and a keyed hash, so lists,
search by phone tail and de-duplication on import never need to decrypt.
"""

import hashlib
import hmac
import logging
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from .errors import DomainError

logger = logging.getLogger(__name__)


class DecryptionError(DomainError):
    """A stored value no configured key can decrypt: a key is missing or wrong. Never shown as blank."""

    status = 503
    code = "decryption_failed"
    default_message = _("Stored personal data cannot be decrypted: the encryption keys are misconfigured. "
                        "An administrator must fix FIELD_ENCRYPTION_KEYS.")


@lru_cache(maxsize=1)
def _keys() -> tuple[str, ...]:
    keys = tuple(settings.FIELD_ENCRYPTION_KEYS)
    if not keys:
        raise DecryptionError(_("No field-encryption key is configured."))
    return keys


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    """The first key encrypts; every key decrypts (FIELD_ENCRYPTION_KEYS="new,old" while rotating)."""
    return MultiFernet([Fernet(key.encode()) for key in _keys()])


@lru_cache(maxsize=1)
def _primary() -> Fernet:
    return Fernet(_keys()[0].encode())


@receiver(setting_changed)
def _forget_keys(setting, **kwargs):
    if setting == "FIELD_ENCRYPTION_KEYS":
        for cached in (_keys, _fernet, _primary):
            cached.cache_clear()


def encrypt(value: str) -> str:
    if not value:
        return ""
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    """The clear value; an empty token is an empty value. Raises DecryptionError, never returns a blank."""
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        logger.error("A stored personal value cannot be decrypted with any of the %d configured field keys "
                     "(FIELD_ENCRYPTION_KEYS): a key is missing or wrong.", len(_keys()))
        raise DecryptionError() from None


def is_current(token: str) -> bool:
    """Whether the token is encrypted with the first (current) key: rotation has nothing left to do."""
    if not token:
        return True
    try:
        _primary().decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def _hash(key: str, value: str) -> str:
    return hmac.new(key.encode(), value.strip().upper().encode(), hashlib.sha256).hexdigest()


def keyed_hash(value: str) -> str:
    """Stable, keyed digest used to find duplicates without storing the clear value (current key)."""
    if not value:
        return ""
    return _hash(_keys()[0], value)


def keyed_hashes(value: str) -> list[str]:
    """The value's digest under every configured key, current first: lookups during a key rotation."""
    if not value:
        return []
    return [_hash(key, value) for key in _keys()]


def encrypted_columns() -> list[tuple]:
    """Every encrypted column: (model, `<name>_encrypted` field, `<name>_hash` field or None).

    Found by convention, so a column added later is rotated and checked without being listed here.
    """
    from django.apps import apps

    columns = []
    for model in apps.get_models():
        names = {f.name for f in model._meta.concrete_fields}
        for name in sorted(names):
            if name.endswith("_encrypted"):
                hash_field = name.removesuffix("_encrypted") + "_hash"
                columns.append((model, name, hash_field if hash_field in names else None))
    return columns


def health() -> str:
    """`ok` when the oldest and newest stored value of every encrypted column decrypt, else `failing`."""
    for model, field, _hash_field in encrypted_columns():
        stored = model._base_manager.exclude(**{field: ""}).order_by("pk").values_list(field, flat=True)
        for token in {stored.first(), stored.last()} - {None}:
            try:
                _fernet().decrypt(token.encode())
            except InvalidToken:
                logger.error("readyz: %s.%s holds a value no configured field key decrypts",
                             model._meta.label, field)
                return "failing"
    return "ok"


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
