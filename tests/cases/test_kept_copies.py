"""The small tables a process keeps (`KeptCopy`, gridcase/core/cache.py): the SLA policies (sla.py) and the
categories' rows (categories.py). Read once, then served from memory while the shared version says they are
current; a change saved in the admin, or published by another process, is seen by the very next use; nothing read
inside a transaction is kept. Real transactions: every other test runs inside one, where nothing is kept."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from api.cases.serializers import CaseCreateSerializer
from gridcase.cases import categories, sla
from gridcase.cases.models import Category, SlaPolicy

from .conftest import ensure_taxonomy

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(settings.CACHES["default"]["BACKEND"].endswith("LocMemCache"),
                       reason="a copy is kept only with a shared cache (Redis)"),
]


@pytest.fixture
def drain():
    ensure_taxonomy()
    sla.forget_caches()
    return Category.objects.get(code="env_drain")


def accept_limits(category):
    return sla.limits_for(category.pk, "normal", "micro_grid", "accept")


def default_accept_policy():
    return SlaPolicy.objects.get(category=None, priority="", owner_level="", stage="accept")


def test_read_once_then_served_from_the_copy(drain, django_assert_num_queries):
    first = accept_limits(drain)
    assert (first.yellow_hours, first.red_hours, first.working) == (2, 4, True)
    with django_assert_num_queries(0):
        assert accept_limits(drain) == first
        assert sla.limits_for(drain.pk, "urgent", "micro_grid", "accept").red_hours == 1


def test_a_policy_saved_in_the_admin_counts_at_once(drain, admin_client):
    accept_limits(drain)
    policy = default_accept_policy()
    policy.yellow_hours, policy.red_hours = 3, 6
    policy.save()
    assert (accept_limits(drain).yellow_hours, accept_limits(drain).red_hours) == (3, 6)
    # through the admin's own form too
    r = admin_client.post(f"/admin/cases/slapolicy/{policy.pk}/change/", {
        "category": "", "priority": "", "owner_level": "", "stage": "accept", "yellow_hours": "1.5",
        "red_hours": "5", "working_hours": "on"})
    assert r.status_code == 302, r.content[:500]
    assert accept_limits(drain).red_hours == 5
    SlaPolicy.objects.create(category=drain, stage="accept", yellow_hours=1, red_hours=2)
    assert accept_limits(drain).red_hours == 2
    SlaPolicy.objects.filter(category=drain).delete()
    assert accept_limits(drain).red_hours == 5


def test_a_change_another_process_published_counts_at_once(drain):
    accept_limits(drain)
    # another process wrote the table and published the change (its `invalidate()`)
    SlaPolicy.objects.filter(pk=default_accept_policy().pk).update(red_hours=8)
    cache.set(sla.VERSION_KEY, "bumped elsewhere", None)
    assert accept_limits(drain).red_hours == 8


def test_nothing_read_inside_a_transaction_is_kept(drain, django_assert_num_queries):
    accept_limits(drain)
    with transaction.atomic():
        SlaPolicy.objects.filter(pk=default_accept_policy().pk).update(red_hours=11)
        sla.invalidate()  # a bulk write says so itself
        assert accept_limits(drain).red_hours == 11
        transaction.set_rollback(True)
    assert accept_limits(drain).red_hours == 4
    with django_assert_num_queries(0):
        assert accept_limits(drain).red_hours == 4


def category_error(category):
    body = CaseCreateSerializer(data={"category": category.pk, "title": "x"}, context={})
    body.is_valid()
    return [e.code for e in body.errors.get("category", [])]


def test_a_reports_category_comes_from_the_copy_and_follows_the_admin(drain, admin_client,
                                                                     django_assert_num_queries):
    assert categories.active(drain.pk).name == drain.name
    with django_assert_num_queries(0):
        got = categories.active(drain.pk)
        assert category_error(drain) == []
    got.name = "changed in memory"  # a new instance each time: the copy is not touched
    assert categories.active(drain.pk).name == drain.name
    assert [getattr(got, f.attname) for f in drain._meta.concrete_fields if f.name != "name"] == [
        getattr(drain, f.attname) for f in drain._meta.concrete_fields if f.name != "name"]
    drain.is_active = False
    drain.save()
    assert categories.active(drain.pk) is None and category_error(drain) == ["does_not_exist"]
    r = admin_client.post(f"/admin/cases/category/{drain.pk}/change/", {
        **{k: v for k, v in Category.objects.filter(pk=drain.pk).values(
            "code", "name", "name_en", "default_priority", "entry_level", "skip_min_priority",
            "department_kinds", "copy_levels", "sort")[0].items()},
        "parent": drain.parent_id, "is_active": "on", "name": "下水道（改）"})
    assert r.status_code == 302, r.content[:2000]
    assert categories.active(drain.pk).name == "下水道（改）" and category_error(drain) == []


def test_a_category_change_another_process_published_counts_at_once(drain):
    categories.active(drain.pk)
    Category.objects.filter(pk=drain.pk).update(sensitive=True)
    cache.set(categories.VERSION_KEY, "bumped elsewhere", None)
    assert categories.active(drain.pk).sensitive is True
