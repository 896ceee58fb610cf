"""Outbound channels. The in-app inbox is always on; these copy a notification elsewhere.

`NOTIFICATION_CHANNELS` (env, comma separated) picks them: `email` (built in), `webhook` (POSTs JSON
to `NOTIFICATION_WEBHOOK_URL`: a WeCom/DingTalk robot or an SMS gateway adapter). Each channel's
`send` raises on failure; the outbox retries with backoff. What a channel may say is decided by
`rendering.outgoing` (a sensitive case goes out as a neutral notice). Every send carries the delivery's
idempotency key (the same on each retry): e-mail as its Message-ID, the webhook as `Idempotency-Key`,
and webhook bodies are signed (`signing`).
"""

import json
import urllib.request

from django.conf import settings
from django.core.mail import EmailMessage

from . import rendering, signing


class ChannelError(Exception):
    pass


class EmailChannel:
    name = "email"

    def applies_to(self, notification) -> bool:
        return bool(notification.recipient.email)

    def send(self, notification, key: str) -> None:
        message = rendering.outgoing(notification)
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "gridcase.localhost"
        EmailMessage(
            message.subject, message.text, settings.DEFAULT_FROM_EMAIL, [notification.recipient.email],
            headers={"Message-ID": f"<{key}@{domain}>", "X-GridCase-Idempotency-Key": key},
        ).send(fail_silently=False)


class WebhookChannel:
    """Posts `{"msgtype": "text", "text": {"content": …}, "gridcase": {...}}` (the robot text format), with
    headers `Idempotency-Key` and `X-GridCase-Signature: t=…,v1=…` (HMAC-SHA256 of "t." + body)."""

    name = "webhook"

    def applies_to(self, notification) -> bool:
        return bool(settings.NOTIFICATION_WEBHOOK_URL)

    def send(self, notification, key: str) -> None:
        message = rendering.outgoing(notification)
        body = {
            "msgtype": "text",
            "text": {"content": message.text},
            "gridcase": {"id": notification.pk, "idempotency_key": key, "kind": notification.kind,
                         "recipient": notification.recipient.username, "case": notification.case_id,
                         "sensitive": message.sensitive, "link": message.link},
        }
        data = json.dumps(body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": key}
        if settings.NOTIFICATION_WEBHOOK_SECRET:
            headers[signing.HEADER] = signing.sign(settings.NOTIFICATION_WEBHOOK_SECRET, data)
        request = urllib.request.Request(settings.NOTIFICATION_WEBHOOK_URL, data=data, headers=headers,
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=settings.NOTIFICATION_WEBHOOK_TIMEOUT) as response:
                if response.status >= 300:
                    raise ChannelError(f"HTTP {response.status}")
        except OSError as exc:
            raise ChannelError(str(exc)) from exc


REGISTRY = {c.name: c for c in (EmailChannel(), WebhookChannel())}


# Channels other apps register: sent by the outbox like any other, but never chosen by NOTIFICATION_CHANNELS.
NAMED_ONLY: set[str] = set()


def register(channel) -> None:
    """Add a channel other apps define (the 12345 hotline's callbacks): the outbox sends its rows like any
    other, but `notify` uses it only when a caller names it (`notify(..., via=[name])`)."""
    REGISTRY[channel.name] = channel
    NAMED_ONLY.add(channel.name)


def enabled():
    return [REGISTRY[name] for name in settings.NOTIFICATION_CHANNELS if name in REGISTRY and name not in NAMED_ONLY]
