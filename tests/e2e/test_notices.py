"""Notices and broadcasts in the browser (issue 13): an emergency broadcast acknowledged by 3 of 5 workers and the
console's chase list naming the other 2; a worker acknowledging on a 360×640 phone with no signal, sent once when
the network returns; a building lead's phone showing only her building."""

import re

import pytest
from playwright.sync_api import expect

from gridcase.grids.choices import Role
from gridcase.notices import receipts
from gridcase.notices.models import Notice, Receipt
from gridcase.volunteers import services as volunteers
from tests import factories as f

from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def test_broadcast_acknowledged_by_three_of_five_and_the_chase_list_shows_the_other_two(city, desktop, screenshots):
    extra = [f.member(f.UserFactory(username=f"micro{i}", first_name=name), city.sibling_micro, Role.MICRO_GRID_WORKER)
             for i, name in enumerate(["钱多多", "孙小美"])]
    workers = [city.worker, city.sibling_worker, city.grid_worker, *extra]
    login(desktop, "secretary")
    desktop.wait_for_url(re.compile(r"/console/"))
    desktop.goto("/console/notices")
    desktop.select_option("[data-test=notice-kind]", "broadcast")
    desktop.select_option("[data-test=notice-grid]", str(city.grid.pk))
    desktop.locator("[data-test=notice-title]").fill("紧急：明日停水")
    desktop.locator("[data-test=notice-body]").fill("8:00-18:00 停水，请通知独居老人储水。")
    desktop.screenshot(path=str(screenshots / "notice-publish-console.png"), full_page=True)
    desktop.locator("[data-test=notice-submit]").click()
    desktop.wait_for_url(re.compile(r"/console/notices/\d+"))
    notice = Notice.objects.get(title="紧急：明日停水")
    assert notice.requires_ack and notice.recipients_count == 5
    for w in workers[:3]:
        receipts.acknowledge(w, notice.pk)
    desktop.reload()
    expect(desktop.locator("[data-test=chase-totals]")).to_contain_text("已确认 3")
    people = desktop.locator("[data-test=chase-person]")
    expect(people).to_have_count(2)
    expect(people.filter(has_text="钱多多")).to_have_count(1)
    expect(people.filter(has_text="孙小美")).to_have_count(1)
    desktop.screenshot(path=str(screenshots / "notice-chase-console.png"), full_page=True)


def test_worker_acknowledges_with_no_signal_and_it_is_sent_once_when_back_online(city, phone, screenshots):
    from gridcase.notices.publishing import publish_notice

    notice = publish_notice(city.secretary, grid=city.grid, kind="broadcast", title="台风蓝色预警",
                            body="今晚有大风，请检查辖区广告牌和空调外机。")
    login(phone, "worker")
    phone.wait_for_url(re.compile(r"/m/"))
    phone.goto("/m/notices")
    card = phone.locator("[data-test=notice]", has_text="台风蓝色预警")
    expect(card.locator("[data-test=ack]")).to_be_visible()
    phone.screenshot(path=str(screenshots / "notice-ack-phone.png"), full_page=True)
    phone.context.set_offline(True)
    card.locator("[data-test=ack]").click()
    expect(card.locator("[data-test=ack-queued]")).to_be_visible()
    phone.screenshot(path=str(screenshots / "notice-ack-offline-phone.png"), full_page=True)
    assert Receipt.objects.get(notice=notice, user=city.worker).acked_at is None
    phone.context.set_offline(False)
    expect(card.locator("[data-test=acked]")).to_be_visible(timeout=15000)
    receipt = Receipt.objects.get(notice=notice, user=city.worker)
    assert receipt.acked_at is not None and receipt.ack_client_uuid is not None
    # The same acknowledgement replayed (a second sync) changes nothing.
    again = receipts.acknowledge(city.worker, notice.pk, client_uuid=receipt.ack_client_uuid)
    assert again.created is False and again.receipt.acked_at == receipt.acked_at


def test_a_building_leads_phone_shows_only_her_building(city, phone, screenshots):
    from gridcase.notices.publishing import publish_notice

    volunteers.register(city.secretary, role="building_lead", building=city.building, phone="13900001234",
                        display_name="张楼长", password="Lead-pass-1234", resident=city.resident)
    publish_notice(city.secretary, grid=city.micro, title="1栋电梯检修", audience="residents")
    publish_notice(city.outsider, grid=city.other_community, title="和惠社区停电", audience="residents")
    login(phone, "13900001234", "Lead-pass-1234")
    phone.wait_for_url(re.compile(r"/lead"))
    expect(phone.locator("[data-test=lead-notice]", has_text="1栋电梯检修")).to_be_visible()
    expect(phone.get_by_text("和惠社区停电")).to_have_count(0)
    phone.screenshot(path=str(screenshots / "lead-notices-phone.png"))
    phone.get_by_role("tab", name="邻居").click()
    expect(phone.locator("[data-test=neighbour]", has_text="王秀英")).to_be_visible()
    expect(phone.locator("[data-test=neighbour]", has_text="李建国")).to_be_visible()
    expect(phone.get_by_text("赵敏")).to_have_count(0)
    expect(phone.get_by_text("13812345678")).to_have_count(0)
    phone.screenshot(path=str(screenshots / "lead-neighbours-phone.png"))
