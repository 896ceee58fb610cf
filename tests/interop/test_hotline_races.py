"""The hotline pushing one ticket several times at once (PostgreSQL, one connection per thread): one case, every
answer names it; the same signed request at once: one accepted, the others refused as replays."""

import json
import time

import pytest
from django.conf import settings

from gridcase.cases.models import Case, Category
from gridcase.core.errors import Conflict
from gridcase.intake.models import IntakeTicket
from gridcase.interop import hotline
from gridcase.interop.models import HotlineCategory, HotlineTicket
from gridcase.notifications import signing
from tests.cases.test_concurrency import race

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not settings.IS_POSTGRES, reason="needs PostgreSQL row locks"),
]
SECRET = "race-secret"


@pytest.fixture
def body(city, settings):
    settings.HOTLINE_SECRET = SECRET
    HotlineCategory.objects.create(code="0301", category=Category.objects.get(code="env_stairwell"))
    return json.dumps({"ticket_id": "GD-RACE-1", "category_code": "0301", "content": "楼道堆物",
                       "grid_code": city.micro.code}).encode()


@pytest.mark.django_db(transaction=True)
def test_one_ticket_pushed_at_once_is_one_case(body):
    now = int(time.time())
    results = race(lambda i: hotline.receive(signing.sign(SECRET, body, now - i), body))
    assert all(isinstance(r, tuple) for r in results), results
    assert sum(created for _t, created in results) == 1
    assert len({t.case_id for t, _c in results}) == 1
    assert (Case.objects.count(), HotlineTicket.objects.count(), IntakeTicket.objects.count()) == (1, 1, 1)


@pytest.mark.django_db(transaction=True)
def test_one_signed_request_at_once_is_accepted_once(body):
    header = signing.sign(SECRET, body)
    results = race(lambda i: hotline.receive(header, body))
    accepted = [r for r in results if isinstance(r, tuple)]
    replays = [r for r in results if isinstance(r, Conflict) and r.code == "replayed"]
    assert len(accepted) == 1 and len(replays) == len(results) - 1, results
    assert Case.objects.count() == 1
