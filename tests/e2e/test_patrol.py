"""The patrol log (巡查日志) at 360×640: a worker writes an entry without signal, it goes up once when the signal
comes back, and the secretary reads it in the console under the worker and the day."""

import pytest
from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_entry_written_offline_goes_up_once_and_the_secretary_reads_it(city, phone, desktop, screenshots):
    from gridcase.visits.models import PatrolEntry

    login(phone, "worker")
    phone.wait_for_url("**/m/**")
    phone.goto("/m/me")
    phone.locator("[data-test=me-patrol]").click()
    phone.wait_for_url("**/m/patrol")
    expect(phone.locator(".patrol__empty")).to_be_visible()

    phone.context.set_offline(True)
    phone.locator("[data-test=patrol-building]").select_option(label="1栋")
    phone.locator("[data-test=patrol-note] textarea").fill("1单元楼道堆放纸箱，消防通道被堵")
    phone.locator("[data-test=patrol-save]").click()
    expect(phone.locator("[data-test=patrol-queued]")).to_be_visible()
    assert PatrolEntry.objects.count() == 0
    phone.screenshot(path=str(screenshots / "patrol-offline-phone.png"))

    phone.context.set_offline(False)
    phone.evaluate("window.dispatchEvent(new Event('online'))")
    expect(phone.locator("[data-test=patrol-entries] li")).to_have_count(1)
    expect(phone.locator("[data-test=patrol-queued]")).to_have_count(0)
    phone.screenshot(path=str(screenshots / "patrol-phone.png"))
    entry = PatrolEntry.objects.get()
    assert entry.worker.username == "worker" and entry.building.name == "1栋"

    login(desktop, "secretary")
    desktop.wait_for_url("**/console/**")
    desktop.goto("/console/patrol")
    group = desktop.locator(f"[data-test=patrol-worker-{entry.worker_id}]")
    expect(group).to_contain_text("1单元楼道堆放纸箱")
    expect(group).to_contain_text("1栋")
    desktop.screenshot(path=str(screenshots / "patrol-console.png"))
