"""Two people acting on one case at once: exactly one wins (PostgreSQL, real transactions, one connection per
thread). Same for a phone resending a report, and for case numbers handed out at the same time."""

import threading

import pytest
from django.conf import settings
from django.db import connection

from gridcase.cases import services, workflow
from gridcase.cases.models import Case, CaseEvent
from gridcase.core.errors import Conflict, DomainError

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not settings.IS_POSTGRES, reason="needs PostgreSQL row locks"),
]
N = 8


def race(fn, n=N):
    """Run fn(i) in n threads released together; return the results or exceptions."""
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


@pytest.mark.django_db(transaction=True)
def test_same_transition_at_once_exactly_one_wins(city, make_case):
    case = make_case()
    users = [city.secretary, city.grid_worker, city.dispatcher, city.admin]
    results = race(lambda i: workflow.apply(case.pk, "accept", users[i % len(users)], {}, version=1))
    wins = [r for r in results if isinstance(r, Case)]
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(wins) == 1 and len(conflicts) == N - 1, results
    case.refresh_from_db()
    assert case.status == "accepted" and case.version == 2
    assert CaseEvent.objects.filter(case=case, action="accept").count() == 1


@pytest.mark.django_db(transaction=True)
def test_different_transitions_at_once_exactly_one_wins(city, make_case, drive):
    case = drive(make_case(), "accept")
    actions = [("assign", city.secretary, {"assignee": city.worker.pk}),
               ("escalate", city.grid_worker, {}),
               ("reject", city.secretary, {"reason": "重复"})]
    results = race(lambda i: workflow.apply(case.pk, actions[i % 3][0], actions[i % 3][1], actions[i % 3][2],
                                            version=case.version), n=6)
    wins = [r for r in results if isinstance(r, Case)]
    assert len(wins) == 1 and all(isinstance(r, Conflict) for r in results if not isinstance(r, Case)), results
    case.refresh_from_db()
    assert case.version == 3
    assert CaseEvent.objects.filter(case=case).count() == 3


@pytest.mark.django_db(transaction=True)
def test_resent_report_creates_one_case(city, category):
    def send(i):
        return services.create_case(city.worker, {"category": category, "grid": city.micro, "title": "漏水",
                                                  "description": "顶楼漏水", "client_key": "offline-42"})

    results = race(send)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({r.case.pk for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert Case.objects.count() == 1
    # The resends that lost wrote nothing that stayed: one event, and no number used up.
    assert CaseEvent.objects.filter(action="create").count() == 1
    assert Case.objects.get().number.endswith("-000001")


@pytest.mark.django_db(transaction=True)
def test_numbers_handed_out_at_once_are_distinct(city, category):
    def send(i):
        return services.create_case(city.worker, {"category": category, "grid": city.micro, "title": f"事件{i}"})

    results = race(send)
    assert not [r for r in results if isinstance(r, DomainError | Exception) and not hasattr(r, "case")], results
    numbers = sorted(Case.objects.values_list("number", flat=True))
    assert len(numbers) == N and len(set(numbers)) == N
    assert numbers[-1].endswith(f"-BLZ-{N:06d}")
    # The number is taken last in the report's transaction; what was sent about the case already carries it.
    from gridcase.notifications.models import Notification

    for case in Case.objects.all():
        titles = set(Notification.objects.filter(case_id=case.pk).values_list("title", flat=True))
        assert titles and all(case.number in t for t in titles), (case.number, titles)
