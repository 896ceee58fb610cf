"""The points shop (信用超市): redemptions at the desk are atomic, never negative, once per request; two desks
redeeming the last item at once give one success (PostgreSQL, real transactions)."""

import threading

import pytest
from django.conf import settings
from django.db import connection

from gridcase.core.errors import Conflict
from gridcase.points import rules, shop
from gridcase.points.models import PointEntry, Redemption, ResidentCredit, Reward


def grant(city, resident, points, key="grant"):
    return rules.award("resident_grant", resident, resident, grid=resident.grid, points=points, suffix=key)


@pytest.fixture
def reward(city):
    return Reward.objects.create(community=city.community, name="洗衣液", price=30, stock=2)


def test_a_redemption_at_the_desk_by_the_residents_code(city, client_for, reward):
    grant(city, city.resident, 100)
    credit = ResidentCredit.objects.get(resident=city.resident)
    assert credit.balance == 100
    client = client_for(city.secretary)
    r = client.post("/api/v1/redemptions/", {"reward": reward.pk, "code": credit.code, "client_key": "desk1-001"},
                    format="json")
    assert r.status_code == 201, r.content
    again = client.post("/api/v1/redemptions/", {"reward": reward.pk, "code": credit.code, "client_key": "desk1-001"},
                        format="json")
    assert again.status_code == 200 and again.json()["id"] == r.json()["id"]
    credit.refresh_from_db()
    reward.refresh_from_db()
    assert (credit.balance, reward.stock) == (70, 1)
    assert list(PointEntry.objects.filter(resident=city.resident).order_by("id").values_list("rule", "points")) == [
        ("resident_grant", 100), ("redemption", -30)]
    # The resident's own page: balance and history, by the code.
    from rest_framework.test import APIClient

    page = APIClient().get(f"/api/v1/credit/{credit.code}/")
    assert page.status_code == 200 and page.json()["balance"] == 70
    assert [e["points"] for e in page.json()["entries"]] == [-30, 100]
    assert APIClient().get("/api/v1/credit/nope/").status_code == 404


def test_beyond_the_balance_or_the_stock_nothing_changes(city, client_for, reward):
    grant(city, city.resident, 20)
    client = client_for(city.secretary)
    r = client.post("/api/v1/redemptions/", {"reward": reward.pk, "resident": city.resident.pk, "client_key": "k1"},
                    format="json")
    assert r.status_code == 409 and r.json()["code"] == "insufficient_points"
    grant(city, city.resident, 100, key="more")
    Reward.objects.filter(pk=reward.pk).update(stock=0)
    r = client.post("/api/v1/redemptions/", {"reward": reward.pk, "resident": city.resident.pk, "client_key": "k2"},
                    format="json")
    assert r.status_code == 409 and r.json()["code"] == "out_of_stock"
    assert ResidentCredit.objects.get(resident=city.resident).balance == 120
    assert not Redemption.objects.exists()


def test_only_the_communitys_desk_and_its_residents(city, client_for, reward):
    grant(city, city.other_resident, 100)
    r = client_for(city.secretary).post("/api/v1/redemptions/", {"reward": reward.pk, "resident":
                                                                 city.other_resident.pk, "client_key": "x"},
                                        format="json")
    assert r.status_code == 400  # the other community's resident is not in her area
    r = client_for(city.outsider).post("/api/v1/redemptions/", {"reward": reward.pk, "resident":
                                                                city.other_resident.pk, "client_key": "y"},
                                       format="json")
    assert r.status_code == 400 and "reward" in r.json()["fields"]


pg = pytest.mark.skipif(not settings.IS_POSTGRES, reason="needs PostgreSQL row locks")


def race(fn, n):
    barrier = threading.Barrier(n)
    results = [None] * n

    def worker(i):
        try:
            barrier.wait()
            results[i] = fn(i)
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@pytest.mark.postgres
@pg
@pytest.mark.django_db(transaction=True)
def test_two_desks_redeeming_the_last_item_at_once_one_succeeds():
    from tests.persona import build_city

    city = build_city()
    reward = Reward.objects.create(community=city.community, name="最后一桶油", price=10, stock=1)
    for r in (city.resident, city.sibling_resident):
        grant(city, r, 50)
    people = [city.resident, city.sibling_resident]
    results = race(lambda i: shop.redeem(city.secretary, reward.pk, people[i % 2], f"desk{i}"), n=6)
    wins = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(wins) == 1 and len(refused) == 5, results
    assert {r.code for r in refused} == {"out_of_stock"}
    assert Reward.objects.get(pk=reward.pk).stock == 0
    assert Redemption.objects.count() == 1
    assert sum(ResidentCredit.objects.values_list("balance", flat=True)) == 90


@pytest.mark.postgres
@pg
@pytest.mark.django_db(transaction=True)
def test_one_resident_at_two_desks_never_goes_negative():
    from tests.persona import build_city

    city = build_city()
    rewards = [Reward.objects.create(community=city.community, name=f"奖品{i}", price=30, stock=5) for i in range(2)]
    grant(city, city.resident, 40)
    results = race(lambda i: shop.redeem(city.secretary, rewards[i % 2].pk, city.resident, f"d{i}"), n=6)
    assert len([r for r in results if isinstance(r, tuple)]) == 1, results
    assert ResidentCredit.objects.get(resident=city.resident).balance == 10
