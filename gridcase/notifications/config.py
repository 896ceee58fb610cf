"""Start-up checks of the notification settings (imported by settings.py: no Django imports here)."""

from gridcase.env import ConfigError


def check_webhook_secret(channels: list[str], url: str | None, secret: str | None, dev: bool) -> None:
    """Outside development a webhook is never sent unsigned: refuse to start without its secret."""
    if "webhook" in channels and url and not secret and not dev:
        raise ConfigError("NOTIFICATION_WEBHOOK_SECRET must be set to use the webhook channel (GRIDCASE_DEV=false)")
