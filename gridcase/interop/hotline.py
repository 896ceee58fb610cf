"""The 12345 hotline link: tickets the city's hotline platform pushes in, and status callbacks going back.

Inbound (`receive`): the platform POSTs a JSON ticket signed with the shared secret (HOTLINE_SECRET):
`X-Hotline-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>` — the scheme of the
outbox's webhooks (`notifications.signing`). Refused: a missing or wrong signature (401 `bad_signature`), a
timestamp outside ±HOTLINE_TOLERANCE_SECONDS (401 `stale_signature`), the same signed request a second time
(409 `replayed`: a retry must be signed afresh). A ticket id already received answers the same case (200);
the same id with other content is 409 `ticket_changed`. The category is mapped through `HotlineCategory`,
the place by grid code, point (micro-grid boundaries) or address (a building's address); a ticket that
cannot be mapped is refused with the reason and nothing is created.

Outbound (`sync_case`): at each stage of the case — accepted, replied, resolved, closed, rating — one callback,
written as a notification to the hotline's system account (`dedupe_key` = ticket + stage, so each stage once)
and sent by the outbox on the `hotline` channel: leased, retried with backoff, the same `Idempotency-Key` on
every attempt, signed with the same secret (`X-GridCase-Signature`).
"""

import hashlib
import json
import logging
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridcase.cases.choices import Source
from gridcase.cases.models import Case, CaseEvent
from gridcase.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from gridcase.grids import tree
from gridcase.grids.choices import Level
from gridcase.grids.models import Grid
from gridcase.intake import services as intake
from gridcase.notifications import signing
from gridcase.notifications.channels import ChannelError
from gridcase.notifications.models import Kind
from gridcase.notifications.services import notify

from . import routing
from .filing import file_report
from .models import HotlineCategory, HotlineSeenSignature, HotlineTicket

logger = logging.getLogger("gridcase.interop.hotline")

HEADER = "X-Hotline-Signature"
CHANNEL = "hotline"
SYSTEM_USERNAME = "hotline-12345"
# Case events → the hotline's stages (a `resolve` note is also the reply to the caller when no department replied).
STAGES = ("accepted", "replied", "resolved", "closed", "rating")
STAGE_OF_ACTION = {"accept": ("accepted",), "reply": ("replied",), "resolve": ("replied", "resolved"),
                   "close": ("closed",), "reject": ("closed",), "rate": ("rating",), "callback": ("rating",)}
# A ticket whose case was merged as a duplicate is called back at the kept case's stages — but not with its
# rating, which is the kept case's resident's (issue 11: ratings are residents' own).
FOLLOWED_ACTIONS = [a for a, stages in STAGE_OF_ACTION.items() if "rating" not in stages]


class Unauthorized(DomainError):
    status = 401
    code = "bad_signature"
    default_message = _("The request is not signed with the hotline's shared secret.")


class NotConfigured(DomainError):
    # Without its secret the link does not exist here: 404, not a server error (nothing is wrong with the server).
    status = 404
    code = "hotline_not_configured"
    default_message = _("The 12345 hotline link is not configured (HOTLINE_SECRET).")


# --- inbound ---------------------------------------------------------------------------------------------------

def _timestamp(header: str):
    for item in (header or "").split(","):
        key, _sep, value = item.strip().partition("=")
        if key == "t":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def check_signature(header, body: bytes, now=None) -> str:
    """The request's signature (hex) once it is valid and fresh; raises Unauthorized otherwise."""
    secret = settings.HOTLINE_SECRET
    if not secret:
        raise NotConfigured()
    now = timezone.now() if now is None else now
    tolerance = settings.HOTLINE_TOLERANCE_SECONDS
    stamp = _timestamp(header)
    if stamp is None:
        raise Unauthorized()
    if abs(now.timestamp() - stamp) > tolerance:
        raise Unauthorized(_("The request's timestamp is more than %(n)s seconds away from our clock.")
                           % {"n": tolerance}, code="stale_signature")
    if not signing.verify(secret, header, body, tolerance=tolerance, now=now.timestamp()):
        raise Unauthorized()
    return signing.signature(secret, stamp, body)


def _remember(signature: str, now) -> None:
    """Store the signature inside the caller's transaction; the same one again is a replay."""
    try:
        with transaction.atomic():
            HotlineSeenSignature.objects.create(signature=signature, seen_at=now)
    except IntegrityError:
        raise Conflict(_("This signed request was already received. Sign a retry afresh."), code="replayed")
    if now.second == 0:  # about once a minute under load: forget signatures the timestamp window refuses anyway
        HotlineSeenSignature.objects.filter(
            seen_at__lt=now - timedelta(seconds=2 * settings.HOTLINE_TOLERANCE_SECONDS)).delete()


def _clean(body) -> dict:
    if not isinstance(body, dict):
        raise ValidationFailed(_("Send a JSON object."), code="malformed_request")
    errors, out = {}, {}

    def text(name, limit, required=False):
        value = body.get(name)
        if value is None:
            value = ""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            errors[name] = [_("Enter text.")]
            return ""
        value = value.strip()
        if required and not value:
            errors[name] = [_("This field is required.")]
        elif len(value) > limit:
            errors[name] = [_("Keep this under %(n)s characters.") % {"n": limit}]
        return value

    out["ticket_id"] = text("ticket_id", 64, required=True)
    out["category_code"] = text("category_code", 40, required=True)
    out["content"] = text("content", intake.DESCRIPTION_MAX, required=True)
    out["title"] = text("title", intake.TITLE_MAX)
    out["address"] = text("address", 300)
    out["grid_code"] = text("grid_code", 64)
    out["caller_name"] = text("caller_name", intake.NAME_MAX)
    out["caller_phone"] = text("caller_phone", 20)
    if out["caller_phone"] and not intake.PHONE_RE.match(out["caller_phone"]):
        errors["caller_phone"] = [_("Enter a phone number.")]
    lat, lng = body.get("lat"), body.get("lng")
    out["point"] = None
    if lat not in (None, "") or lng not in (None, ""):
        try:
            lat, lng = float(lat), float(lng)
            if isinstance(body.get("lat"), bool) or not (-90 <= lat <= 90 and -180 <= lng <= 180):
                raise ValueError
            out["point"] = (lat, lng)
        except (TypeError, ValueError):
            errors["lat"] = [_("Send lat and lng as decimal degrees.")]
    if not (out["address"] or out["point"] or out["grid_code"]):
        errors["address"] = [_("Give the address, a point (lat, lng) or a grid code.")]
    if out["category_code"] and "category_code" not in errors:
        mapping = HotlineCategory.objects.select_related("category").filter(code=out["category_code"]).first()
        if mapping is None or not mapping.category.is_active:
            errors["category_code"] = [_("No GridCase category is mapped to the hotline category %(code)s.")
                                       % {"code": out["category_code"]}]
        else:
            out["category"] = mapping.category
    if errors:
        raise ValidationFailed(_("Please check the highlighted fields."), fields=errors)
    return out


def area():
    """The subtree hotline tickets are routed in (HOTLINE_AREA, a grid code), or None for the whole tree."""
    code = settings.HOTLINE_AREA
    if not code:
        return None
    grid = Grid.objects.filter(code=code).first()
    if grid is None:
        raise NotConfigured(_("HOTLINE_AREA names no grid."))
    return grid


def place(data):
    """(grid, building) of a ticket: its grid code, else its point inside a micro-grid's boundary, else the building
    its address names; refused with the reason otherwise."""
    root = area()
    if data["grid_code"]:
        grid = Grid.objects.filter(code=data["grid_code"], level__in=[Level.MICRO_GRID, Level.GRID]).first()
        if grid is None or (root is not None and not tree.is_inside(grid, root)):
            raise ValidationFailed(fields={"grid_code": [_("No micro-grid or grid has this code here.")]},
                                   code="unroutable")
        return grid, None
    if data["point"] is not None and routing.has_boundaries(root):
        grid = routing.grid_at(*data["point"], root)
        if grid is not None:
            return grid, None
        if not data["address"]:
            raise ValidationFailed(_("The location is outside every micro-grid served here."),
                                   fields={"lat": [_("Outside the area served.")]}, code="outside_area")
    if data["address"]:
        building = routing.building_for_address(data["address"], root)
        if building is not None:
            return routing.grid_of_building(building), building
    raise ValidationFailed(_("The address matches no building served here; route the ticket by hand."),
                           fields={"address": [_("No building has this address.")]}, code="unroutable")


def _body_hash(data) -> str:
    keep = {k: v for k, v in data.items() if k != "category"}
    return hashlib.sha256(json.dumps(keep, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _same(ticket, digest):
    if ticket.body_hash != digest:
        raise Conflict(_("This hotline ticket was already received with other content."), code="ticket_changed")
    return ticket


def receive(header, raw: bytes, now=None):
    """(ticket, created) for a signed push; see the module's docstring for what is refused."""
    now = now or timezone.now()
    signature = check_signature(header, raw, now)
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ValidationFailed(_("Send a JSON object."), code="malformed_request")
    with transaction.atomic():
        _remember(signature, now)
        data = _clean(body)
        digest = _body_hash(data)
        existing = HotlineTicket.objects.select_related("case").filter(ticket_id=data["ticket_id"]).first()
        if existing is not None:
            return _same(existing, digest), False
        grid, building = place(data)
        title = data["title"] or (" ".join(data["content"].split())[:30])
        try:
            with transaction.atomic():
                case, _ticket = file_report(
                    grid=grid, category=data["category"], title=title, description=data["content"],
                    source=Source.HOTLINE, channel="hotline_12345", client_key=f"hotline-{data['ticket_id']}",
                    now=now, name=data["caller_name"], phone=data["caller_phone"],
                    location={"lat": data["point"][0], "lng": data["point"][1]} if data["point"] else None,
                    building=building)
                ticket = HotlineTicket.objects.create(ticket_id=data["ticket_id"], case=case,
                                                      category_code=data["category_code"], address=data["address"],
                                                      body_hash=digest, received_at=now)
        except IntegrityError:
            existing = HotlineTicket.objects.select_related("case").filter(ticket_id=data["ticket_id"]).first()
            if existing is None:
                raise
            return _same(existing, digest), False
    return ticket, True


def answer(ticket, created: bool) -> dict:
    case = ticket.case
    return {"ticket_id": ticket.ticket_id, "case_number": case.number, "status": case.status,
            "grid": case.grid.code, "created": created}


# --- outbound callbacks ------------------------------------------------------------------------------------------

def system_user():
    """The hotline's account: recipient of its callbacks (never signs in)."""
    user_model = get_user_model()
    user = user_model.objects.filter(username=SYSTEM_USERNAME).first()
    if user is None:
        try:
            with transaction.atomic():
                user = user_model(username=SYSTEM_USERNAME, is_active=False, first_name="12345")
                user.set_unusable_password()
                user.save()
        except IntegrityError:
            user = user_model.objects.get(username=SYSTEM_USERNAME)
    return user


def dedupe_key(ticket_id: str, stage: str) -> str:
    return f"hotline:{ticket_id}:{stage}"


def callback_body(ticket, case, stage: str, event, kept=None) -> dict:
    """`kept`: the case the ticket's case was merged into, when the stage is that case's (its status is shown)."""
    shown = kept or case
    body = {"ticket_id": ticket.ticket_id, "stage": stage, "case_number": case.number, "status": shown.status,
            "at": event.at.isoformat()}
    if kept is not None:
        body["merged_into"] = kept.number
    if stage in ("replied", "resolved") and event.comment:
        body["text"] = event.comment
    if stage == "closed":
        body["outcome"] = "rejected" if event.action == "reject" else "closed"
        if event.action == "reject":
            body["text"] = event.comment
    if stage == "rating":
        body["rating"] = (event.payload or {}).get("rating") or case.rating
        body["source"] = case.rating_source or event.action
    return body


def sync_case(case_id) -> int:
    """Write the callbacks the case's events call for, each stage once; returns how many were new."""
    ticket = HotlineTicket.objects.filter(case_id=case_id).first()
    if ticket is None:
        return 0
    case = Case.objects.get(pk=case_id)
    events = [(e, None) for e in CaseEvent.objects.filter(case_id=case_id, action__in=list(STAGE_OF_ACTION))
              .order_by("id")]
    kept = intake.followed_case(case)
    if kept.pk != case.pk:
        # Merged as a duplicate: the caller hears of the kept case's progress (stages not yet called back).
        events += [(e, kept) for e in CaseEvent.objects.filter(case_id=kept.pk, action__in=FOLLOWED_ACTIONS)
                   .order_by("id")]
    done = set()
    new = 0
    user = None
    for event, shown in events:
        for stage in STAGE_OF_ACTION[event.action]:
            if stage in done:
                continue
            done.add(stage)
            user = user or system_user()
            new += notify([user], Kind.CASE_UPDATE, f"12345 {ticket.ticket_id}: {stage}",
                          dedupe_key=dedupe_key(ticket.ticket_id, stage), case_id=case.pk,
                          payload=callback_body(ticket, case, stage, event, shown), via=[CHANNEL])
    return new


def sync_recent(days: int = 3) -> int:
    """The sweep: callbacks of tickets whose case changed lately (a process that died after a commit)."""
    since = timezone.now() - timedelta(days=days)
    ids = HotlineTicket.objects.filter(Q(case__updated_at__gte=since) | Q(case__merged_into__updated_at__gte=since)) \
        .values_list("case_id", flat=True)
    return sum(sync_case(case_id) for case_id in ids)


class CallbackChannel:
    """POSTs a callback's JSON to HOTLINE_CALLBACK_URL, signed (`X-GridCase-Signature`) with HOTLINE_SECRET,
    with `Idempotency-Key` (the same on every attempt). Anything but 2xx is retried by the outbox."""

    name = CHANNEL

    def applies_to(self, notification) -> bool:
        return True  # a callback is never skipped: without a URL it fails visibly and is retried

    def send(self, notification, key: str) -> None:
        url, secret = settings.HOTLINE_CALLBACK_URL, settings.HOTLINE_SECRET
        if not url or not secret:
            raise ChannelError("HOTLINE_CALLBACK_URL and HOTLINE_SECRET must be set")
        data = json.dumps({**notification.payload, "idempotency_key": key}, ensure_ascii=False).encode()
        request = urllib.request.Request(url, data=data, method="POST", headers={
            "Content-Type": "application/json", "Idempotency-Key": key, signing.HEADER: signing.sign(secret, data)})
        try:
            with urllib.request.urlopen(request, timeout=settings.HOTLINE_CALLBACK_TIMEOUT) as response:
                if response.status >= 300:
                    raise ChannelError(f"HTTP {response.status}")
        except OSError as exc:
            raise ChannelError(str(exc)) from exc


# --- the console's list ------------------------------------------------------------------------------------------

def console_rows(tickets) -> list[dict]:
    """Tickets with their callbacks' delivery state (stage, state, attempts, last error, sent at)."""
    from gridcase.notifications.models import Delivery

    tickets = list(tickets)
    keys = {dedupe_key(t.ticket_id, s): (t.pk, s) for t in tickets for s in STAGES}
    by_ticket: dict = {t.pk: {} for t in tickets}
    rows = (Delivery.objects.filter(channel=CHANNEL, notification__dedupe_key__in=list(keys),
                                    notification__recipient__username=SYSTEM_USERNAME)
            .select_related("notification"))
    for d in rows:
        pk, stage = keys[d.notification.dedupe_key]
        by_ticket[pk][stage] = {"stage": stage, "state": d.state, "attempts": d.attempts,
                                "last_error": d.last_error, "sent_at": d.sent_at,
                                "next_attempt_at": d.next_attempt_at, "created_at": d.notification.created_at}
    return [{"id": t.pk, "ticket_id": t.ticket_id, "case": t.case_id, "case_number": t.case.number,
             "case_status": t.case.status, "grid_name": t.case.grid.name, "received_at": t.received_at,
             "address": t.address, "category_code": t.category_code,
             "callbacks": [by_ticket[t.pk][s] for s in STAGES if s in by_ticket[t.pk]]} for t in tickets]


def ticket_or_404(pk):
    ticket = HotlineTicket.objects.filter(pk=pk).first()
    if ticket is None:
        raise NotFound()
    return ticket
