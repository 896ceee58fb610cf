"""Notices and emergency broadcasts: publishing in scope, once per recipient through the outbox, read receipts,
acknowledgements replayed from an offline phone, the chase list per grid, scheduled publish and expiry, the public
board."""

import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from gridcase.core.errors import Forbidden, ValidationFailed
from gridcase.grids.choices import Role
from gridcase.notices import publishing, receipts
from gridcase.notices.models import Notice, Receipt, State
from gridcase.notifications.models import Delivery, Notification
from tests import factories as f

pytestmark = pytest.mark.django_db


def five_workers(city):
    """The broadcast's five workers: the two micro-grid workers, the grid worker, and two more micro workers."""
    extra = [f.member(f.UserFactory(username=f"m{i}"), city.sibling_micro if i else city.micro,
                      Role.MICRO_GRID_WORKER) for i in range(2)]
    return [city.worker, city.sibling_worker, city.grid_worker, *extra]


def test_broadcast_reaches_every_worker_once_and_the_chase_list_names_who_has_not_acknowledged(city, client_for,
                                                                                                settings):
    settings.NOTIFICATION_CHANNELS = ["email"]
    workers = five_workers(city)
    for i, w in enumerate(workers):
        w.email = f"w{i}@example.org"
        w.save()
    api = client_for(city.secretary)
    body = {"grid": city.grid.pk, "kind": "broadcast", "title": "明日停水", "body": "8:00-18:00 停水，请通知居民",
            "client_key": "k-1"}
    r = api.post("/api/v1/notices/", body, format="json")
    assert r.status_code == 201, r.content
    notice = r.json()
    assert notice["requires_ack"] is True and notice["state"] == "published" and notice["recipients_count"] == 5
    # A resend of the same publish answers the first notice: nothing duplicated.
    again = api.post("/api/v1/notices/", body, format="json")
    assert again.status_code == 200 and again.json()["id"] == notice["id"]
    assert Notice.objects.count() == 1
    assert Receipt.objects.filter(notice_id=notice["id"]).count() == 5
    inbox = Notification.objects.filter(dedupe_key=f"notice-{notice['id']}")
    assert inbox.count() == 5 and set(inbox.values_list("kind", flat=True)) == {"broadcast"}
    assert Delivery.objects.filter(notification__in=inbox, channel="email").count() == 5
    # Sending again (the beat sweep racing the request) changes nothing.
    assert publishing.send_notice(notice["id"]) == 0
    assert Notification.objects.filter(dedupe_key=f"notice-{notice['id']}").count() == 5

    for w in workers[:3]:
        a = client_for(w).post(f"/api/v1/notices/{notice['id']}/ack/", {"client_uuid": str(uuid.uuid4())},
                               format="json")
        assert a.status_code == 201, a.content
    chase = api.get(f"/api/v1/notices/{notice['id']}/chase/")
    assert chase.status_code == 200
    data = chase.json()
    assert (data["total"], data["acked"], data["pending"]) == (5, 3, 2)
    pending = {p["user"] for g in data["grids"] for p in g["pending"]}
    assert pending == {workers[3].pk, workers[4].pk}
    by_grid = {g["grid"]: g for g in data["grids"]}
    assert by_grid[city.micro.pk]["total"] == 2 and len(by_grid[city.micro.pk]["pending"]) == 1


def test_an_acknowledgement_replayed_from_an_offline_phone_is_kept_once_with_the_time_it_was_tapped(city, client_for):
    notice = publishing.publish_notice(city.secretary, grid=city.micro, title="台风预警", kind="broadcast")
    tapped = timezone.now() - timedelta(seconds=30)
    key = str(uuid.uuid4())
    api = client_for(city.worker)
    first = api.post(f"/api/v1/notices/{notice.pk}/ack/", {"client_uuid": key, "acked_at": tapped.isoformat()},
                     format="json")
    assert first.status_code == 201 and first.json()["replayed"] is False
    replay = api.post(f"/api/v1/notices/{notice.pk}/ack/", {"client_uuid": key, "acked_at": tapped.isoformat()},
                      format="json")
    assert replay.status_code == 200 and replay.json()["replayed"] is True
    assert replay.json()["acked_at"] == first.json()["acked_at"]
    receipt = Receipt.objects.get(notice=notice, user=city.worker)
    assert receipt.acked_at >= notice.published_at and receipt.read_at is not None
    assert Notification.objects.get(recipient=city.worker, dedupe_key=f"notice-{notice.pk}").read_at is not None
    # A time from the future is clamped to now; one before publication to the publication.
    other = publishing.publish_notice(city.secretary, grid=city.micro, title="二次预警", kind="broadcast")
    r = api.post(f"/api/v1/notices/{other.pk}/ack/", {"acked_at": "2000-01-01T00:00:00Z"}, format="json")
    assert r.status_code == 201
    assert Receipt.objects.get(notice=other, user=city.worker).acked_at == Notice.objects.get(pk=other.pk).published_at


def test_a_non_recipient_cannot_acknowledge_and_learns_nothing(city, client_for):
    notice = publishing.publish_notice(city.secretary, grid=city.micro, title="停电", kind="broadcast")
    for user in (city.sibling_worker, city.outsider):
        r = client_for(user).post(f"/api/v1/notices/{notice.pk}/ack/", {}, format="json")
        assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert not Receipt.objects.filter(notice=notice, acked_at__isnull=False).exists()
    r = client_for(city.worker).post("/api/v1/notices/abc/ack/", {}, format="json")
    assert r.status_code == 404


def test_a_notice_outside_the_publishers_scope_is_a_clear_error_and_nothing_is_stored(city, client_for):
    r = client_for(city.secretary).post("/api/v1/notices/", {"grid": city.other_community.pk, "title": "越权通知"},
                                        format="json")
    assert r.status_code == 400 and "grid" in r.json()["fields"]
    r = client_for(city.secretary).post("/api/v1/notices/", {"grid": city.other_community.pk, "title": "x"},
                                        format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert "in your area" in r.json()["fields"]["grid"][0]
    with pytest.raises(ValidationFailed) as exc:
        publishing.publish_notice(city.secretary, grid=city.other_community, title="越权")
    assert exc.value.code == "out_of_scope"
    # A micro-grid worker may not publish, even on their own grid.
    r = client_for(city.worker).post("/api/v1/notices/", {"grid": city.micro.pk, "title": "我的通知"}, format="json")
    assert r.status_code == 403
    with pytest.raises(Forbidden):
        publishing.publish_notice(city.worker, grid=city.micro, title="x")
    assert Notice.objects.count() == 0 and Notification.objects.count() == 0


@pytest.mark.parametrize("body,field", [
    ({"title": ""}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"title": "ok", "kind": "broadcast", "audience": "residents"}, "audience"),
    ({"title": "ok", "publish_at": "2001-01-01T00:00:00Z"}, "publish_at"),
    ({"title": "ok", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
    ({"title": "ok", "kind": "memo"}, "kind"),
    ({"title": 12}, "title"),
])
def test_bad_notices_are_refused_naming_the_field(city, client_for, body, field):
    r = client_for(city.secretary).post("/api/v1/notices/", {"grid": city.grid.pk, **body}, format="json")
    assert r.status_code == 400, r.content
    assert field in r.json()["fields"]
    assert Notice.objects.count() == 0


def test_scheduled_notice_is_sent_by_the_sweep_once_and_expires(city, client_for):
    now = timezone.now()
    notice = publishing.publish_notice(city.secretary, grid=city.grid, title="物业费公示", audience="residents",
                                       publish_at=now + timedelta(hours=1), expires_at=now + timedelta(days=2))
    assert notice.state == State.SCHEDULED and not Receipt.objects.filter(notice=notice).exists()
    # Not yet visible to a recipient, nor acknowledged.
    assert client_for(city.worker).post(f"/api/v1/notices/{notice.pk}/read/").status_code == 404
    assert publishing.publish_due(now + timedelta(minutes=30)) == 0
    assert publishing.publish_due(now + timedelta(hours=1, minutes=1)) == 1
    assert publishing.publish_due(now + timedelta(hours=1, minutes=2)) == 0
    notice.refresh_from_db()
    assert notice.state == State.PUBLISHED
    assert Notification.objects.filter(dedupe_key=f"notice-{notice.pk}").count() == notice.recipients_count == 3
    publishing.publish_due(now + timedelta(days=3))
    notice.refresh_from_db()
    assert notice.state == State.EXPIRED


def test_read_receipts_and_the_chase_list_for_a_plain_notice(city, client_for):
    notice = publishing.publish_notice(city.secretary, grid=city.grid, title="学习通知")
    api = client_for(city.worker)
    mine = api.get("/api/v1/notices/", {"mine": "true"}).json()["results"]
    assert [n["id"] for n in mine] == [notice.pk] and mine[0]["my_receipt"]["read_at"] is None
    assert api.post(f"/api/v1/notices/{notice.pk}/read/").status_code == 200
    assert api.post(f"/api/v1/notices/{notice.pk}/ack/", {}, format="json").json()["code"] == "ack_not_required"
    chase = client_for(city.secretary).get(f"/api/v1/notices/{notice.pk}/chase/").json()
    assert chase["read"] == 1 and chase["pending"] == 2
    # The sibling worker's view of the chase list: no publisher role, refused.
    assert client_for(city.worker).get(f"/api/v1/notices/{notice.pk}/chase/").status_code == 403
    # The other community's secretary does not see the notice at all.
    assert client_for(city.outsider).get(f"/api/v1/notices/{notice.pk}/").status_code == 404


def test_public_board_of_the_community_and_the_micro_grid_qr_page(city, client_for):
    resident_notice = publishing.publish_notice(city.secretary, grid=city.community, title="居务公开：低保名单",
                                                audience="residents")
    workers_only = publishing.publish_notice(city.secretary, grid=city.community, title="内部通知")
    sibling_only = publishing.publish_notice(city.secretary, grid=city.sibling_micro, title="二号微网格清洗水箱",
                                             audience="residents")
    expired = publishing.publish_notice(city.secretary, grid=city.community, title="旧通知", audience="residents",
                                        expires_at=timezone.now() + timedelta(seconds=1))
    Notice.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    att = SimpleUploadedFile("名单.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    up = client_for(city.secretary).post(f"/api/v1/notices/{resident_notice.pk}/attachments/", {"file": att},
                                         format="multipart")
    assert up.status_code == 201, up.content
    anonymous = client_for(None)
    board = anonymous.get(f"/api/v1/public/notices/{city.community.qr_token}/").json()
    titles = [n["title"] for n in board["notices"]]
    assert set(titles) == {"居务公开：低保名单", "二号微网格清洗水箱"}
    qr = anonymous.get(f"/api/v1/public/notices/{city.micro.qr_token}/").json()
    assert [n["title"] for n in qr["notices"]] == ["居务公开：低保名单"]
    assert qr["community"]["board_token"] == city.community.qr_token
    url = qr["notices"][0]["attachments"][0]["url"]
    assert url.startswith(f"/api/v1/public/notices/{city.micro.qr_token}/files/")
    got = anonymous.get(url)
    assert got.status_code == 200 and got["Content-Disposition"] == "attachment"
    assert anonymous.get(f"/api/v1/public/notices/{city.grid.qr_token}/").status_code == 404
    assert anonymous.get("/api/v1/public/notices/nonsense/").status_code == 404
    assert workers_only.pk not in [n["id"] for n in board["notices"]]
    assert sibling_only.pk not in [n["id"] for n in qr["notices"]]


def test_attachments_are_checked_by_content(city, client_for):
    notice = publishing.publish_notice(city.secretary, grid=city.grid, title="附件")
    api = client_for(city.secretary)
    fake = SimpleUploadedFile("x.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    r = api.post(f"/api/v1/notices/{notice.pk}/attachments/", {"file": fake}, format="multipart")
    assert r.status_code == 415
    ok = SimpleUploadedFile("x.png", b"\x89PNG\r\n\x1a\n....", content_type="image/png")
    r = client_for(city.worker).post(f"/api/v1/notices/{notice.pk}/attachments/", {"file": ok}, format="multipart")
    assert r.status_code == 403


def test_publish_notice_is_callable_by_other_apps(city):
    """The plain function other modules (deliberation's decisions) call; None publishes as the system."""
    n = publishing.publish_notice(None, grid=city.micro, title="议事结果公示", audience="residents")
    assert n.state == State.PUBLISHED and n.created_by is None
    assert receipts.receipt_of(city.worker, n.pk).notice_id == n.pk


def test_inbox_list_query_count_is_constant(city, client_for, django_assert_max_num_queries):
    for i in range(6):
        publishing.publish_notice(city.secretary, grid=city.grid, title=f"通知{i}")
    api = client_for(city.worker)
    with django_assert_max_num_queries(6):
        r = api.get("/api/v1/notices/", {"mine": "true"})
    assert len(r.json()["results"]) == 6
