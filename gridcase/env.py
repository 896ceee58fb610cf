"""Strict parsers for settings read from environment variables.

A bad value stops the process at start-up with a message naming the variable,
rather than running with a silently wrong configuration.
"""

import os


class ConfigError(Exception):
    pass


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be a boolean (true/false), got {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {value!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_thresholds(name: str, defaults: dict, per_key: dict | None = None) -> dict:
    """Thresholds per code from `code:field=value,field=value;code2:field=value` (e.g. hotspots per category code),
    merged over `per_key`. Every field must be one of `defaults` and a positive number of the same type."""
    out = {code: dict(fields) for code, fields in (per_key or {}).items()}
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return out
    for part in value.split(";"):
        if not part.strip():
            continue
        code, sep, body = part.partition(":")
        code = code.strip()
        if not sep or not code:
            raise ConfigError(f"{name}: expected code:field=value,… separated by ';', got {part!r}")
        fields = out.setdefault(code, {})
        for item in body.split(","):
            field, eq, raw = item.partition("=")
            field = field.strip()
            if field not in defaults or not eq:
                raise ConfigError(f"{name}: {code}: unknown field {field!r} (known: {', '.join(defaults)})")
            kind = type(defaults[field])
            try:
                number = kind(raw.strip())
            except ValueError:
                raise ConfigError(f"{name}: {code}.{field} must be a {kind.__name__}, got {raw.strip()!r}")
            if number <= 0:
                raise ConfigError(f"{name}: {code}.{field} must be positive, got {raw.strip()!r}")
            fields[field] = number
    return out
