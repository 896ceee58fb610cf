"""The 12345 hotline link: signed pushes (idempotent on the ticket id, replays and bad signatures refused,
category and place mapped, nothing half-created) and stage callbacks through the outbox, received once each by
a fake hotline server."""

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.utils import timezone

from gridcase.cases import workflow
from gridcase.cases.choices import Source
from gridcase.cases.models import Case, Category
from gridcase.grids.models import Building
from gridcase.intake.models import IntakeTicket
from gridcase.interop import hotline
from gridcase.interop.models import HotlineCategory, HotlineSeenSignature, HotlineTicket
from gridcase.notifications import services as outbox
from gridcase.notifications import signing
from gridcase.notifications.models import Delivery

pytestmark = pytest.mark.django_db
SECRET = "test-hotline-secret"
URL = "/api/v1/hotline/inbound/"


@pytest.fixture
def link(city, settings):
    settings.HOTLINE_SECRET = SECRET
    settings.HOTLINE_CALLBACK_URL = ""
    settings.HOTLINE_AREA = ""
    HotlineCategory.objects.create(code="0301", name="楼道堆物", category=Category.objects.get(code="env_stairwell"))
    HotlineCategory.objects.create(code="0105", name="下水道", category=Category.objects.get(code="env_drain"))
    Building.objects.filter(pk=city.building.pk).update(address="八里庄东里1栋")
    return city


def ticket(**kw):
    body = {"ticket_id": "GD20261202-0001", "category_code": "0301", "content": "1单元楼道堆满纸箱，堵住消防通道",
            "address": "成都市锦江区八里庄东里1栋1单元", "grid_code": "", "caller_name": "刘先生",
            "caller_phone": "13611112222"}
    body.update(kw)
    return {k: v for k, v in body.items() if v is not None}


def push(client, body, *, secret=SECRET, at=None, raw=None, header=None):
    data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()
    sig = header if header is not None else signing.sign(secret, data, int(at if at is not None else time.time()))
    return client.post(URL, data=data, content_type="application/json", HTTP_X_HOTLINE_SIGNATURE=sig)


@pytest.fixture
def anon(client_for):
    return client_for(None)


def counts():
    return Case.objects.count(), HotlineTicket.objects.count(), IntakeTicket.objects.count()


def test_a_signed_ticket_becomes_a_case_once(link, anon):
    r = push(anon, ticket(grid_code=link.micro.code))
    assert r.status_code == 201, r.json()
    body = r.json()
    case = Case.objects.get(number=body["case_number"])
    assert body["created"] is True and body["ticket_id"] == "GD20261202-0001"
    assert case.source == Source.HOTLINE and case.grid_id == link.micro.pk
    assert case.category.code == "env_stairwell" and case.reporter_name == "刘先生"
    assert IntakeTicket.objects.get(case=case).contact_phone == "13611112222"
    # The platform resends (a lost answer): signed afresh, same ticket → the same case, 200.
    time.sleep(1.01)
    r = push(anon, ticket(grid_code=link.micro.code))
    assert r.status_code == 200 and r.json()["case_number"] == case.number and r.json()["created"] is False
    assert Case.objects.filter(source=Source.HOTLINE).count() == 1
    # The same id with other words: a conflict, not a second case.
    r = push(anon, ticket(grid_code=link.micro.code, content="别的事"))
    assert r.status_code == 409 and r.json()["code"] == "ticket_changed"


def test_the_address_names_the_building_and_its_grid(link, anon):
    r = push(anon, ticket())
    assert r.status_code == 201, r.json()
    case = Case.objects.get(number=r.json()["case_number"])
    # The persona building has units in two micro-grids: the case goes to its general grid, naming the building.
    assert case.grid_id == link.grid.pk and case.building_id == link.building.pk


def test_a_point_is_routed_by_the_micro_grid_boundary(link, mapped, anon):
    r = push(anon, ticket(address="", lat=30.001, lng=104.0015))
    assert r.status_code == 201, r.json()
    assert Case.objects.get(number=r.json()["case_number"]).grid_id == link.sibling_micro.pk


@pytest.mark.parametrize("change,status,code", [
    ({"category_code": "9999"}, 400, "validation_error"),
    ({"ticket_id": ""}, 400, "validation_error"),
    ({"content": ""}, 400, "validation_error"),
    ({"address": "", "grid_code": ""}, 400, "validation_error"),
    ({"address": "新疆喀什某路", "grid_code": ""}, 400, "unroutable"),
    ({"grid_code": "NOPE"}, 400, "unroutable"),
    ({"caller_phone": "打我电话"}, 400, "validation_error"),
])
def test_bad_tickets_create_nothing(link, anon, change, status, code):
    before = counts()
    r = push(anon, ticket(**change))
    assert r.status_code == status and r.json()["code"] == code, r.json()
    assert counts() == before and not HotlineSeenSignature.objects.exists()


def test_outside_every_micro_grid(link, mapped, anon):
    before = counts()
    r = push(anon, ticket(address="", lat=31.5, lng=104.0015))
    assert r.status_code == 400 and r.json()["code"] == "outside_area"
    assert counts() == before


def test_signatures_are_checked_and_replays_refused(link, anon, settings):
    before = counts()
    body = ticket(grid_code=link.micro.code)
    assert push(anon, body, secret="wrong").json()["code"] == "bad_signature"
    assert push(anon, body, header="").status_code == 401
    assert push(anon, body, header="t=abc,v1=00").status_code == 401
    old = push(anon, body, at=time.time() - 3600)
    assert old.status_code == 401 and old.json()["code"] == "stale_signature"
    assert push(anon, body, at=time.time() + 3600).json()["code"] == "stale_signature"
    data = json.dumps(body).encode()
    tampered = signing.sign(SECRET, data)
    r = push(anon, None, raw=data.replace(b"0001", b"0002"), header=tampered)
    assert r.status_code == 401 and counts() == before
    assert push(anon, None, raw=b"not json", header=signing.sign(SECRET, b"not json")).status_code == 400
    # The exact same signed request twice: the second is a replay.
    header = signing.sign(SECRET, data)
    assert push(anon, None, raw=data, header=header).status_code == 201
    r = push(anon, None, raw=data, header=header)
    assert r.status_code == 409 and r.json()["code"] == "replayed"
    assert Case.objects.filter(source=Source.HOTLINE).count() == 1
    settings.HOTLINE_SECRET = ""
    r = push(anon, body)
    assert r.status_code == 404 and r.json()["code"] == "hotline_not_configured"


# --- callbacks ------------------------------------------------------------------------------------------------

class FakeHotline:
    """The platform's callback endpoint: verifies each callback's signature, acts once per Idempotency-Key,
    and can be told to fail the next N calls (the outbox must retry)."""

    def __init__(self):
        self.received: list[dict] = []
        self.keys: dict[str, int] = {}
        self.bad_signatures = 0
        self.fail_next = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                data = self.rfile.read(int(self.headers["Content-Length"]))
                if fake.fail_next:
                    fake.fail_next -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                if not signing.verify(SECRET, self.headers.get("X-GridCase-Signature"), data):
                    fake.bad_signatures += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                key = self.headers["Idempotency-Key"]
                fake.keys[key] = fake.keys.get(key, 0) + 1
                if fake.keys[key] == 1:
                    fake.received.append(json.loads(data))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/callback"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def act(case_id, action, user, **data):
    case = Case.objects.get(pk=case_id)
    return workflow.apply(case_id, action, user, data, version=case.version)


def send_all():
    """The outbox sweep, with any backoff elapsed."""
    Delivery.objects.filter(state=Delivery.State.PENDING).update(next_attempt_at=None)
    return outbox.deliver_pending()


def test_each_stage_is_called_back_once_signed_and_retried(link, anon, settings, django_capture_on_commit_callbacks):
    with FakeHotline() as fake:
        settings.HOTLINE_CALLBACK_URL = fake.url
        r = push(anon, ticket(grid_code=link.micro.code))
        case_id = Case.objects.get(number=r.json()["case_number"]).pk
        steps = [("accept", link.grid_worker, {}), ("assign", link.grid_worker, {"assignee": link.worker.pk}),
                 ("start", link.worker, {}), ("resolve", link.worker, {"note": "纸箱已清走，通道畅通"}),
                 ("verify", link.grid_worker, {}), ("close", link.grid_worker, {})]
        fake.fail_next = 1  # the first callback fails once: retried with backoff, still received once
        for action, user, data in steps:
            with django_capture_on_commit_callbacks(execute=True):
                act(case_id, action, user, **data)
            if action == "accept":
                outbox.deliver_pending()
                row = Delivery.objects.get(channel="hotline")
                assert row.state == "pending" and row.attempts == 1 and row.next_attempt_at > timezone.now()
                assert "503" in row.last_error
            send_all()
        called = timezone.now().isoformat()
        with django_capture_on_commit_callbacks(execute=True):
            act(case_id, "callback", link.grid_worker, rating="satisfied", called_at=called, comment="挺满意")
        send_all()
        # Again, from every side: the sweep, the outbox, a repeated sync.
        assert hotline.sync_case(case_id) == 0 and hotline.sync_recent() == 0
        send_all()

        assert fake.bad_signatures == 0
        assert [c["stage"] for c in fake.received] == ["accepted", "replied", "resolved", "closed", "rating"]
        assert all(n == 1 for n in fake.keys.values()) and len(fake.keys) == 5
        by_stage = {c["stage"]: c for c in fake.received}
        assert by_stage["replied"]["text"] == "纸箱已清走，通道畅通"
        assert by_stage["closed"]["outcome"] == "closed" and by_stage["rating"]["rating"] == "satisfied"
        assert all(c["ticket_id"] == "GD20261202-0001" for c in fake.received)
        assert set(Delivery.objects.filter(channel="hotline").values_list("state", flat=True)) == {"sent"}


def test_a_rejected_ticket_is_called_back_as_closed(link, anon, settings, django_capture_on_commit_callbacks):
    with FakeHotline() as fake:
        settings.HOTLINE_CALLBACK_URL = fake.url
        r = push(anon, ticket(grid_code=link.micro.code))
        case_id = Case.objects.get(number=r.json()["case_number"]).pk
        with django_capture_on_commit_callbacks(execute=True):
            act(case_id, "reject", link.grid_worker, reason="不属于本社区")
        send_all()
        assert [(c["stage"], c["outcome"], c["text"]) for c in fake.received] == [("closed", "rejected", "不属于本社区")]


def test_the_console_lists_tickets_with_their_callbacks(link, anon, client_for, settings,
                                                       django_capture_on_commit_callbacks):
    r = push(anon, ticket(grid_code=link.micro.code))
    case_id = Case.objects.get(number=r.json()["case_number"]).pk
    with django_capture_on_commit_callbacks(execute=True):
        act(case_id, "accept", link.grid_worker)
    outbox.deliver_pending()  # no callback URL: fails visibly, retried later
    r = client_for(link.secretary).get("/api/v1/hotline/tickets/")
    assert r.status_code == 200, r.json()
    [row] = r.json()["results"]
    assert row["ticket_id"] == "GD20261202-0001" and row["case"] == case_id
    [cb] = row["callbacks"]
    assert cb["stage"] == "accepted" and cb["state"] == "pending" and cb["attempts"] == 1
    assert "HOTLINE_CALLBACK_URL" in cb["last_error"]
    assert client_for(link.outsider).get("/api/v1/hotline/tickets/").json()["results"] == []
    assert anon.get("/api/v1/hotline/tickets/").status_code in (401, 403)
    assert client_for(link.secretary).get("/api/v1/hotline/tickets/?bogus=1").status_code == 400


def test_old_signatures_are_forgotten(link):
    now = timezone.now().replace(second=0)
    HotlineSeenSignature.objects.create(signature="a" * 64, seen_at=now - timedelta(hours=1))
    hotline._remember("b" * 64, now)
    assert list(HotlineSeenSignature.objects.values_list("signature", flat=True)) == ["b" * 64]


def test_the_seeded_mapping_routes_a_ticket(city, anon, settings):
    from gridcase.core.seeding import APP_ORDER
    from gridcase.interop import seeding

    assert "interop" in APP_ORDER
    settings.HOTLINE_SECRET = SECRET

    class Ctx:
        def log(self, message):
            self.said = message

    seeding.seed_demo(Ctx())
    seeding.seed_demo(Ctx())  # twice: the same table
    assert HotlineCategory.objects.count() == len(seeding.HOTLINE_CATEGORIES)
    r = push(anon, ticket(category_code="0302", grid_code=city.micro.code))
    assert r.status_code == 201 and Case.objects.get(number=r.json()["case_number"]).category.code == "env_drain"


def test_the_hotline_channel_is_never_a_default_channel(settings):
    from gridcase.notifications import channels

    settings.NOTIFICATION_CHANNELS = ["email", "hotline"]
    assert [c.name for c in channels.enabled()] == ["email"] and "hotline" in channels.REGISTRY
