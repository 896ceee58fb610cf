"""Open311 GeoReport v2 over the intake's rules: services are the categories a resident may pick, a request is
a resident's report filed by an API client, its token is the intake tracking code.

Errors are Open311's: `Open311Error(http status, description)`, shown as `[{"code": …, "description": …}]`.
Rules beyond the spec (written in README's Open311 section):
- POST needs `api_key`; GET is public as the spec has it, but lists only requests filed through Open311 and shows
  a request's words and place (description, address, point, media) only to the client that filed it (with its
  `api_key`): residents' words are never public;
- a point is routed to the micro-grid whose boundary contains it, inside the client's area; where the area has
  no boundaries, `address_string` naming a building, or the extension `grid_code` (a micro-grid's code) chooses
  it; a point outside every micro-grid of the area is refused, nothing is filed.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from gridcase.cases.choices import TERMINAL, Source
from gridcase.cases.models import Case, Category
from gridcase.grids import tree
from gridcase.grids.choices import Level
from gridcase.grids.models import Grid
from gridcase.intake import services as intake

from . import routing
from .filing import file_report
from .models import Open311Client, Open311Request, hash_key

LIST_DAYS, LIST_MAX = 90, 1000
ADDRESS_MAX = 300


class Open311Error(Exception):
    def __init__(self, status: int, description: str):
        self.status, self.description = status, str(description)
        super().__init__(self.description)


# --- clients ---------------------------------------------------------------------------------------------------

def client_for_key(raw) -> Open311Client:
    raw = str(raw or "").strip()
    if not raw:
        raise Open311Error(403, _("An api_key is required."))
    client = Open311Client.objects.select_related("area").filter(key_hash=hash_key(raw), is_active=True).first()
    if client is None:
        raise Open311Error(403, _("Invalid api_key received -- can't proceed."))
    Open311Client.objects.filter(pk=client.pk).update(last_used_at=timezone.now())
    return client


def optional_client(raw):
    """GET: no key is a public reader; a key that is given must be valid."""
    return client_for_key(raw) if str(raw or "").strip() else None


def check_jurisdiction(value) -> None:
    """`jurisdiction_id` is optional; when given it must be this deployment's (OPEN311_JURISDICTION_ID)."""
    if value and settings.OPEN311_JURISDICTION_ID and value != settings.OPEN311_JURISDICTION_ID:
        raise Open311Error(404, _("jurisdiction_id not found: %(id)s") % {"id": value})


# --- services --------------------------------------------------------------------------------------------------

def services() -> list[dict]:
    """One service per category a resident may pick (active, not sensitive); leaves under their top category
    as `group`; a top category without children is a service of its own."""
    out = []
    for top in intake.public_categories():
        leaves = top["children"] or [top]
        for c in leaves:
            out.append({"service_code": c["code"], "service_name": c["name"], "description": c["name_en"] or "",
                        "metadata": False, "type": "realtime", "keywords": "", "group": top["name"]})
    return out


def _service(code) -> Category:
    code = str(code or "").strip()
    if not code:
        raise Open311Error(400, _("service_code was not provided."))
    category = Category.objects.filter(code=code, is_active=True, sensitive=False).first()
    if category is None:
        raise Open311Error(400, _("service_code %(code)s not found.") % {"code": code[:40]})
    return category


# --- creating a request ------------------------------------------------------------------------------------------

def _text(params, name, limit):
    value = " ".join(str(params.get(name) or "").split()) if name != "description" else \
        str(params.get(name) or "").strip()
    if len(value) > limit:
        raise Open311Error(400, _("%(field)s is longer than %(n)s characters.") % {"field": name, "n": limit})
    return value


def _point(params):
    lat, lng = params.get("lat"), params.get("long")
    if lat in (None, "") and lng in (None, ""):
        return None
    try:
        lat, lng = float(lat), float(lng)
    except (TypeError, ValueError):
        raise Open311Error(400, _("lat and long must both be given as decimal degrees."))
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise Open311Error(400, _("lat and long are out of range."))
    return lat, lng


def _grid_by_code(code, area) -> Grid:
    grid = Grid.objects.filter(code=str(code).strip()[:64], level=Level.MICRO_GRID).first()
    if grid is None or not tree.is_inside(grid, area):
        raise Open311Error(400, _("grid_code %(code)s is not a micro-grid of the area you serve.") % {"code": code})
    return grid


def route(client, point, address_string, grid_code):
    """(micro-grid, building or None) for a request, or an Open311Error saying why it cannot be placed."""
    area = client.area
    if point is not None and routing.has_boundaries(area):
        grid = routing.grid_at(point[0], point[1], area)
        if grid is None:
            raise Open311Error(400, _("The location (%(lat)s, %(lng)s) is outside the area served by %(area)s.")
                               % {"lat": point[0], "lng": point[1], "area": area.name})
        return grid, None
    if grid_code:
        return _grid_by_code(grid_code, area), None
    if address_string:
        building = routing.building_for_address(address_string, area)
        if building is not None:
            return routing.grid_of_building(building), building
    if area.level == Level.MICRO_GRID:
        return area, None
    raise Open311Error(400, _("The location cannot be placed in a grid: send lat and long inside the area, an "
                              "address_string naming a building, or grid_code."))


def create_request(client, params, now=None) -> list[dict]:
    """File a service request (POST requests). Everything is checked before anything is written."""
    now = now or timezone.now()
    check_jurisdiction(params.get("jurisdiction_id"))
    category = _service(params.get("service_code"))
    point = _point(params)
    address_string = _text(params, "address_string", ADDRESS_MAX)
    address_id = _text(params, "address_id", 64)
    if point is None and not address_string and not address_id:
        raise Open311Error(400, _("A location is required: lat and long, address_string or address_id."))
    description = _text(params, "description", intake.DESCRIPTION_MAX)
    name = _text(params, "first_name", 30) + _text(params, "last_name", 30)
    phone = _text(params, "phone", 20)
    if phone and not intake.PHONE_RE.match(phone):
        raise Open311Error(400, _("phone is not a phone number."))
    email = _text(params, "email", 254)
    media_url = _text(params, "media_url", 500)
    try:
        if email:
            EmailValidator()(email)
        if media_url:
            URLValidator(schemes=["http", "https"])(media_url)
    except ValidationError:
        raise Open311Error(400, _("email or media_url is not valid."))
    grid_code = params.get("grid_code") or params.get("attribute[grid_code]") or ""
    grid, building = route(client, point, address_string, grid_code)
    words = " ".join(description.split())
    title = (words[:30] + ("…" if len(words) > 30 else "")) if words else category.name
    with transaction.atomic():
        case, ticket = file_report(
            grid=grid, category=category, title=title, description=description or category.name,
            source=Source.API, channel="open311", client_key=f"open311-{uuid.uuid4().hex}", now=now, name=name,
            phone=phone, location={"lat": point[0], "lng": point[1]} if point else None, building=building)
        row = Open311Request(case=case, client=client, address_string=address_string, address_id=address_id,
                             media_url=media_url, device_id=_text(params, "device_id", 100), created_at=now)
        row.email = email
        row.save(force_insert=True)
    return [{"service_request_id": case.number, "token": ticket.code,
             "service_notice": str(intake.STATUS_WORDS[case.status]), "account_id": None}]


# --- reading requests ----------------------------------------------------------------------------------------------

def _iso(value):
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


PRIVATE = ("description", "address", "address_id", "lat", "long", "media_url")


def represent(row: Open311Request, client=None) -> dict:
    """The spec's request; the resident's words and place only for the client that filed it."""
    case = row.case
    out = {
        "service_request_id": case.number,
        "status": "closed" if case.status in TERMINAL else "open",
        "status_notes": str(intake.STATUS_WORDS.get(case.status, case.status)),
        "service_name": case.category.name, "service_code": case.category.code,
        "description": case.description, "agency_responsible": case.owner_grid.name, "service_notice": None,
        "requested_datetime": _iso(case.created_at), "updated_datetime": _iso(case.updated_at),
        "expected_datetime": _iso(case.handle_by),
        "address": row.address_string or None, "address_id": row.address_id or None, "zipcode": None,
        "lat": case.lat, "long": case.lng, "media_url": row.media_url or None,
    }
    if client is None or row.client_id != client.pk:
        out.update(dict.fromkeys(PRIVATE))
    return out


def _rows():
    return (Open311Request.objects.filter(case__sensitive=False)
            .select_related("case__category", "case__owner_grid").order_by("-created_at", "-id"))


def _date(params, name):
    raw = params.get(name)
    if not raw:
        return None
    value = parse_datetime(str(raw).replace(" ", "+"))
    if value is None:
        raise Open311Error(400, _("%(field)s must be a W3C date-time (2010-01-01T00:00:00Z).") % {"field": name})
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def _csv(params, name):
    return [v.strip() for v in str(params.get(name) or "").split(",") if v.strip()]


def list_requests(client, params, now=None) -> list[dict]:
    """GET requests with the spec's filters: `service_request_id` (comma separated; the others are then
    ignored), `service_code`, `start_date`, `end_date` (at most 90 days apart; the last 90 days by default),
    `status` (open, closed). At most 1000 results, newest first."""
    check_jurisdiction(params.get("jurisdiction_id"))
    qs = _rows()
    ids = _csv(params, "service_request_id")
    if ids:
        return [represent(r, client) for r in qs.filter(case__number__in=ids[:LIST_MAX])]
    now = now or timezone.now()
    start, end = _date(params, "start_date"), _date(params, "end_date")
    if start is None and end is None:
        start = now - timedelta(days=LIST_DAYS)
    if start is not None and end is not None and end - start > timedelta(days=LIST_DAYS):
        raise Open311Error(400, _("start_date and end_date may be at most %(n)s days apart.") % {"n": LIST_DAYS})
    if start is not None:
        qs = qs.filter(case__created_at__gte=start)
    if end is not None:
        qs = qs.filter(case__created_at__lte=end)
    codes = _csv(params, "service_code")
    if codes:
        qs = qs.filter(case__category__code__in=codes)
    statuses = set(_csv(params, "status"))
    if statuses - {"open", "closed"}:
        raise Open311Error(400, _("status must be open or closed."))
    if statuses == {"open"}:
        qs = qs.exclude(case__status__in=list(TERMINAL))
    elif statuses == {"closed"}:
        qs = qs.filter(case__status__in=list(TERMINAL))
    return [represent(r, client) for r in qs[:LIST_MAX]]


def get_request(client, request_id) -> list[dict]:
    row = _rows().filter(case__number=str(request_id)[:32]).first()
    if row is None:
        raise Open311Error(404, _("Service request %(id)s not found.") % {"id": str(request_id)[:32]})
    return [represent(row, client)]


def token_lookup(token) -> list[dict]:
    """The request a token (the intake tracking code, known only to whoever filed it) stands for."""
    code = intake.normalise_code(token)[:16]
    number = (Case.objects.filter(intake_ticket__code=code, open311_request__isnull=False)
              .values_list("number", flat=True).first())
    if number is None:
        raise Open311Error(404, _("Token %(token)s not found.") % {"token": str(token)[:32]})
    return [{"service_request_id": number, "token": code}]
