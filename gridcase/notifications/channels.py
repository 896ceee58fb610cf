"""Outbound channels. The in-app inbox is always on; these copy a notification elsewhere.

`NOTIFICATION_CHANNELS` (env, comma separated) picks them: `email` (built in), `webhook` (POSTs JSON
to `NOTIFICATION_WEBHOOK_URL`: a WeCom/DingTalk robot or an SMS gateway adapter). Each channel's
`send` raises on failure; the outbox retries with backoff.
"""

import json
import urllib.request

from django.conf import settings
from django.core.mail import send_mail


class ChannelError(Exception):
    pass


class EmailChannel:
    name = "email"

    def applies_to(self, notification) -> bool:
        return bool(notification.recipient.email)

    def send(self, notification) -> None:
        send_mail(notification.title, notification.body or notification.title, settings.DEFAULT_FROM_EMAIL,
                  [notification.recipient.email], fail_silently=False)


class WebhookChannel:
    """Posts `{"msgtype": "text", "text": {"content": …}, "gridcase": {...}}` (the robot text format)."""

    name = "webhook"

    def applies_to(self, notification) -> bool:
        return bool(settings.NOTIFICATION_WEBHOOK_URL)

    def send(self, notification) -> None:
        body = {
            "msgtype": "text",
            "text": {"content": f"{notification.title}\n{notification.body}".strip()},
            "gridcase": {"id": notification.pk, "kind": notification.kind, "recipient": notification.recipient.username,
                         "case": notification.case_id},
        }
        request = urllib.request.Request(
            settings.NOTIFICATION_WEBHOOK_URL, data=json.dumps(body, ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json"}, method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=settings.NOTIFICATION_WEBHOOK_TIMEOUT) as response:
                if response.status >= 300:
                    raise ChannelError(f"HTTP {response.status}")
        except OSError as exc:
            raise ChannelError(str(exc)) from exc


REGISTRY = {c.name: c for c in (EmailChannel(), WebhookChannel())}


def enabled():
    return [REGISTRY[name] for name in settings.NOTIFICATION_CHANNELS if name in REGISTRY]
