import pytest

from gridcase.grids import geo
from gridcase.grids.models import Grid
from gridcase.interop.models import Open311Client


def box(s, w, n, e):
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


@pytest.fixture
def mapped(city):
    """The persona street with boundaries: two micro-grids side by side (east of 104.0), the other community's
    micro-grid further east. Returns the city."""
    for g, b in ((city.micro, box(30.0, 104.000, 30.002, 104.001)),
                 (city.sibling_micro, box(30.0, 104.001, 30.002, 104.002)),
                 (city.other_micro, box(30.0, 104.010, 30.002, 104.011))):
        Grid.objects.filter(pk=g.pk).update(boundary=b, centroid_lat=30.001,
                                            centroid_lng=b["coordinates"][0][0][0] + 0.0005)
    geo.invalidate()  # update() sends no signal: drop the spatial index a previous test built
    return city


@pytest.fixture
def open311_key(city):
    client = Open311Client(name="open-data app", area=city.street)
    key = client.new_key()
    client.save()
    return key
