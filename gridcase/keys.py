"""Secrets at start-up: where they come from, and which ones GridCase refuses to run with.

Production (``GRIDCASE_DEV=false``) reads every secret from the environment and stops at start-up
(``ConfigError``) when one is missing, is a placeholder from ``deploy/env.example`` or a default that
was ever published in the source, or is too weak. Development needs no configuration: the first run
writes random keys to ``<data dir>/dev-secrets`` (mode 0600), so no checkout's data can be read with
a key from the repository, and changing ``SECRET_KEY`` never changes the field-encryption key.

No Django imports here: settings.py uses this module before Django is configured.

    python -m gridcase.keys generate   # a new SECRET_KEY and FIELD_ENCRYPTION_KEY for deploy/.env
    python -m gridcase.keys legacy     # the field key older releases derived from $SECRET_KEY
"""

import base64
import binascii
import hashlib
import os
import secrets
import sys
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .env import ConfigError, env_list, env_str

DEV_SECRETS_FILE = "dev-secrets"

# The development SECRET_KEY older releases shipped in settings.py: their demo data was encrypted
# with a key derived from it, so that key (and the SECRET_KEY itself) is public.
LEGACY_DEV_SECRET_KEY = "dev-only-insecure-key-change-me"  # noqa: S105 - refused, not used

# Values deploy/env.example ships (and common stand-ins). tests/test_security_settings.py checks
# that every secret placeholder in env.example is in this set.
PLACEHOLDERS = {
    "", "change-me", "changeme", "change_me", "change-me-to-50-random-characters", "secret", "password",
    "gridcase", "postgres", "example", "xxx", "todo", "replace-me", "build-only",
    LEGACY_DEV_SECRET_KEY,
}

SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_UNIQUE = 5


def legacy_field_key(secret_key: str) -> str:
    """The Fernet key older releases derived from SECRET_KEY when FIELD_ENCRYPTION_KEY was unset."""
    digest = hashlib.sha256(("gridcase-field-key:" + secret_key).encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


KNOWN_FIELD_KEYS = {legacy_field_key(LEGACY_DEV_SECRET_KEY)}


def generate_secret_key() -> str:
    return secrets.token_urlsafe(60)


def generate_field_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def _is_fernet_key(value: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(value.encode())) == 32
    except (binascii.Error, ValueError):
        return False


def dev_secrets(data_dir: Path) -> dict[str, str]:
    """This checkout's development secrets, generated on first use and kept in the data dir.

    Several processes may start at once (gunicorn, Celery, pytest-xdist): the file is written aside
    and linked into place, so every process reads the same complete file.
    """
    path = Path(data_dir) / DEV_SECRETS_FILE
    if not path.exists():
        content = (
            "# Development secrets of this checkout, generated on first run. Never use them in production.\n"
            "# Deleting this file makes the data encrypted with them unreadable.\n"
            f"SECRET_KEY={generate_secret_key()}\nFIELD_ENCRYPTION_KEY={generate_field_key()}\n"
        )
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".dev-secrets-")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(content)
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process was first: use its file
        finally:
            os.unlink(tmp)
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            values[name.strip()] = value.strip()
    missing = {"SECRET_KEY", "FIELD_ENCRYPTION_KEY"} - values.keys()
    if missing:
        raise ConfigError(f"{path} lacks {', '.join(sorted(missing))}; restore it from a backup, or delete it "
                          "together with the data it encrypted")
    return values


def field_keys() -> list[str]:
    """FIELD_ENCRYPTION_KEYS (comma separated, the first encrypts, all decrypt) or FIELD_ENCRYPTION_KEY."""
    keys = env_list("FIELD_ENCRYPTION_KEYS", [])
    name = "FIELD_ENCRYPTION_KEYS"
    if not keys:
        single = env_str("FIELD_ENCRYPTION_KEY")
        keys, name = ([single.strip()] if single else []), "FIELD_ENCRYPTION_KEY"
    for position, key in enumerate(keys, 1):
        if not _is_fernet_key(key):
            raise ConfigError(f"{name}: key #{position} is not a Fernet key (32 bytes, url-safe base64); "
                              "generate one with `python -m gridcase.keys generate`")
    if len(set(keys)) != len(keys):
        raise ConfigError(f"{name} lists the same key twice")
    return keys


def production_problems(secret_key: str | None, keys: list[str], database_url: str | None) -> list[str]:
    """Why these secrets must not run in production (empty when they may)."""
    problems = []
    if not secret_key:
        problems.append("SECRET_KEY is not set")
    elif secret_key.strip().lower() in PLACEHOLDERS or secret_key.startswith("django-insecure-"):
        problems.append("SECRET_KEY is a placeholder or a published default")
    elif len(secret_key) < SECRET_KEY_MIN_LENGTH or len(set(secret_key)) < SECRET_KEY_MIN_UNIQUE:
        problems.append(f"SECRET_KEY is too weak: use at least {SECRET_KEY_MIN_LENGTH} random characters")
    if not keys:
        problems.append("FIELD_ENCRYPTION_KEY is not set: residents' phone and ID numbers need their own key")
    for key in keys:
        if key in KNOWN_FIELD_KEYS:
            problems.append("FIELD_ENCRYPTION_KEY is the development default published in the source")
        elif secret_key and key == legacy_field_key(secret_key) and key == keys[0]:
            problems.append("FIELD_ENCRYPTION_KEY is derived from SECRET_KEY: give it a key of its own "
                            "(keep this one second in FIELD_ENCRYPTION_KEYS and run `manage.py rotate_field_key`)")
    if database_url:
        password = unquote(urlsplit(database_url).password or "")
        if password and password.lower() in PLACEHOLDERS:
            problems.append("DATABASE_URL uses a placeholder password")
    postgres_password = env_str("POSTGRES_PASSWORD")
    if postgres_password is not None and postgres_password.lower() in PLACEHOLDERS:
        problems.append("POSTGRES_PASSWORD is a placeholder")
    return problems


def refuse_unsafe_production_secrets(secret_key: str | None, keys: list[str], database_url: str | None):
    problems = production_problems(secret_key, keys, database_url)
    if problems:
        raise ConfigError("Refusing to start in production (GRIDCASE_DEV=false): " + "; ".join(problems)
                          + ". See deploy/README.md, 'Keys'.")


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else ""
    if command == "generate":
        print(f"SECRET_KEY={generate_secret_key()}")
        print(f"FIELD_ENCRYPTION_KEY={generate_field_key()}")
        return 0
    if command == "legacy":
        secret_key = os.environ.get("SECRET_KEY") or LEGACY_DEV_SECRET_KEY
        print(legacy_field_key(secret_key))
        return 0
    print("usage: python -m gridcase.keys generate | legacy", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
