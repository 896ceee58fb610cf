"""Issue 9 item 5 in the console at desktop size: the grid map with no tile server (plain vectors), a grid's card, a
boundary redrawn by dragging the corners it shares with its neighbour — an overlap refused first with the rule named —
then previewed (the building and its households move to the neighbour) and applied."""

import re

import pytest
from playwright.sync_api import expect

from gridcase.grids import geo
from gridcase.grids.models import Building, Grid, Unit

from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)

S, N = 30.660, 30.661


def box(w, e, s=S, n=N):
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


@pytest.fixture
def mapped(city):
    for g, b in ((city.micro, box(104.100, 104.101)), (city.sibling_micro, box(104.101, 104.102)),
                 (city.grid, box(104.100, 104.102)), (city.other_micro, box(104.103, 104.104))):
        Grid.objects.filter(pk=g.pk).update(boundary=b)
    Building.objects.filter(pk=city.building.pk).update(lat=30.6605, lng=104.1008)
    geo.invalidate()
    return city


def centre(locator):
    box_ = locator.bounding_box()
    return box_["x"] + box_["width"] / 2, box_["y"] + box_["height"] / 2


def drag(page, locator, to):
    x, y = centre(locator)
    page.mouse.move(x, y)
    page.mouse.down()
    for k in range(1, 11):
        page.mouse.move(x + (to[0] - x) * k / 10, y + (to[1] - y) * k / 10)
    page.mouse.up()


def test_boundary_redrawn_on_the_map_with_preview(mapped, desktop, screenshots):
    city = mapped
    login(desktop, "secretary")
    desktop.wait_for_url(re.compile(r"/console"))
    desktop.get_by_role("link", name="地图", exact=True).click()
    expect(desktop.locator("h1")).to_contain_text("网格地图")
    expect(desktop.locator("[data-test=map-vector]")).to_be_visible()  # no tile URL: plain vectors
    micro = desktop.locator(f"path[data-grid='{city.micro.pk}']")
    expect(micro).to_be_visible()
    expect(desktop.locator("path.gc-building")).to_have_count(1)
    desktop.screenshot(path=str(screenshots / "console-map.png"), full_page=True)

    micro.click(position={"x": 20, "y": 40})
    card = desktop.locator("[data-test=grid-card]")
    expect(card).to_contain_text(city.micro.name)
    expect(desktop.locator("[data-test=grid-workers]")).not_to_contain_text("未配备")
    desktop.locator("[data-test=redraw]").click()
    expect(desktop.locator(f"[data-vertex='{city.micro.pk}:1']")).to_be_visible()
    # The mouse works in the viewport: bring the map's corners into it (the console's menu takes three rows).
    desktop.locator(f"[data-vertex='{city.micro.pk}:1']").scroll_into_view_if_needed()
    desktop.locator(f"[data-mid='{city.micro.pk}:0']").scroll_into_view_if_needed()

    # Corners 1 and 2 (south-east, north-east) are shared with the neighbour; the dots in the middle of the south
    # and north edges are at longitude 104.1005.
    south_mid = centre(desktop.locator(f"[data-mid='{city.micro.pk}:0']"))
    north_mid = centre(desktop.locator(f"[data-mid='{city.micro.pk}:2']"))

    # Bad input first: moved alone, the corner pushes into the neighbour — refused, naming the rule and the grid.
    desktop.get_by_label(re.compile("共用顶点随动")).uncheck()
    se = centre(desktop.locator(f"[data-vertex='{city.micro.pk}:1']"))
    drag(desktop, desktop.locator(f"[data-vertex='{city.micro.pk}:1']"), (se[0] + (se[0] - south_mid[0]), se[1]))
    desktop.locator("[data-test=redraw-preview]").click()
    error = desktop.locator("[data-test=redraw-error]")
    expect(error).to_have_attribute("data-code", "boundary_overlaps_sibling")
    expect(error).to_contain_text(city.sibling_micro.name)
    desktop.screenshot(path=str(screenshots / "console-map-overlap-refused.png"), full_page=True)
    assert Grid.objects.get(pk=city.micro.pk).boundary == box(104.100, 104.101)

    # Undo, then move the shared edge west: the neighbour follows, and the building at 104.1008 changes side.
    desktop.get_by_role("button", name="撤销修改").click()
    desktop.get_by_label(re.compile("共用顶点随动")).check()
    drag(desktop, desktop.locator(f"[data-vertex='{city.micro.pk}:1']"), south_mid)
    drag(desktop, desktop.locator(f"[data-vertex='{city.micro.pk}:2']"), north_mid)
    expect(desktop.locator("[data-test=redraw-panel]")).to_contain_text(city.sibling_micro.name)
    expect(desktop.locator("[data-test=redraw-apply]")).to_be_disabled()  # preview first
    desktop.locator("[data-test=redraw-preview]").click()
    summary = desktop.locator("[data-test=redraw-summary]")
    expect(summary).to_contain_text("未保存")
    expect(summary).to_contain_text("1 栋楼划入新网格")
    expect(desktop.locator(f"[data-test=load-{city.micro.pk}]")).to_contain_text("1 → 0")
    expect(desktop.locator(f"[data-test=load-{city.sibling_micro.pk}]")).to_contain_text("1 → 2")
    desktop.screenshot(path=str(screenshots / "console-map-redraw-preview.png"), full_page=True)
    assert Unit.objects.get(pk=city.unit.pk).micro_grid_id == city.micro.pk  # the preview wrote nothing

    desktop.locator("[data-test=redraw-apply]").click()
    expect(desktop.locator("[data-test=redraw-done]")).to_be_visible()
    expect(summary).to_contain_text("已保存")
    desktop.screenshot(path=str(screenshots / "console-map-redraw-applied.png"), full_page=True)

    assert Unit.objects.get(pk=city.unit.pk).micro_grid_id == city.sibling_micro.pk
    # Both corners were dropped on the edges' middle dots and snapped onto them: a straight new shared edge.
    ring = Grid.objects.get(pk=city.micro.pk).boundary["coordinates"][0]
    assert sorted({p[0] for p in ring}) == [104.1, 104.1005] and sorted({p[1] for p in ring}) == [S, N]
    assert geo.grid_at(30.6605, 104.1008).pk == city.sibling_micro.pk  # routing follows the new boundary
