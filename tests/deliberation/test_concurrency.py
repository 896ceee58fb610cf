"""The two actions' cases of a topic closed at the same moment, in two transactions: the topic is followed through
exactly once (the case-event hook locks the topic row before it counts the open actions). And one sign-in key sent by
several phones at once signs in once. PostgreSQL, real transactions, one connection per thread."""

import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from gridcase.cases import services as case_services
from gridcase.cases import workflow
from gridcase.cases.models import Category
from gridcase.deliberation import services
from gridcase.deliberation.models import Attendee, Topic, TopicStatus

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not settings.IS_POSTGRES, reason="needs PostgreSQL row locks"),
    pytest.mark.django_db(transaction=True),
]


def race(fns):
    barrier = threading.Barrier(len(fns))
    results = [None] * len(fns)

    def worker(i):
        try:
            barrier.wait()
            results[i] = fns[i]()
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(fns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def decided_topic(city):
    parking = Category.objects.get(code="dispute_parking")
    case = case_services.create_case(city.worker, {"category": parking, "grid": city.micro, "title": "停车纠纷"}).case
    topic = services.raise_topic(city.secretary, {"title": "停车议题", "case": case, "level": "grid",
                                                  "grid": city.grid})
    meeting = services.schedule(city.secretary, {"topic": topic, "starts_at": timezone.now() - timedelta(hours=1),
                                                 "place": "议事厅", "residents": [city.resident]})
    services.sign_in(city.secretary, meeting.pk, {"resident": city.resident})
    meeting.refresh_from_db()
    services.close_meeting(city.secretary, meeting.pk, {"version": meeting.version, "method": "consensus",
                                                        "consensus": "同意"})
    topic.refresh_from_db()
    services.decide(city.secretary, topic.pk, {"version": topic.version, "decision": "错时停车"})
    return topic, meeting, parking


def verified(city, case):
    for name, user, data in [("accept", city.secretary, {}), ("assign", city.secretary, {"assignee": city.worker.pk}),
                             ("start", city.worker, {}), ("resolve", city.worker, {"note": "完成"}),
                             ("verify", city.grid_worker, {})]:
        case.refresh_from_db()
        case = workflow.apply(case.pk, name, user, data, version=case.version)
    return case


def test_two_action_cases_closed_at_once_follow_the_topic_through(city, monkeypatch):
    topic, _, parking = decided_topic(city)
    # Both closes reach the hook before either commits (each has written its case row): without the topic lock
    # each would count the other's case as still open and the topic would never be followed through.
    original = services.on_case_event

    def slow(event):
        time.sleep(0.5)
        original(event)

    monkeypatch.setattr(services, "on_case_event", slow)
    cases = [verified(city, services.add_action(city.secretary, topic.pk, {"title": t, "category": parking}).case)
             for t in ("划线", "清障")]
    results = race([lambda c=c: workflow.apply(c.pk, "close", city.secretary, {}, version=c.version) for c in cases])
    assert not [r for r in results if isinstance(r, Exception)], results
    topic = Topic.objects.get(pk=topic.pk)
    assert topic.status == TopicStatus.FOLLOWED_THROUGH and topic.followed_through_at


def test_one_sign_in_key_from_several_phones_signs_in_once(city):
    topic = services.raise_topic(city.secretary, {"title": "议题", "level": "grid", "grid": city.grid})
    meeting = services.schedule(city.secretary, {"topic": topic, "starts_at": timezone.now(), "place": "议事厅"})
    results = race([lambda: services.sign_in(city.grid_worker, meeting.pk, {"name": "王大爷", "sign_in_key": "k1"})
                    for _ in range(4)])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.created for r in results) == 1
    assert Attendee.objects.filter(consultation=meeting).count() == 1
