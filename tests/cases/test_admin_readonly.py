"""The event log is the truth: the Django admin shows cases but cannot change one, so every change to a case
goes through the workflow, which records an event. Tried as a superuser, by posting the forms."""

import pytest
from django.contrib import admin
from django.contrib.admin.options import InlineModelAdmin
from django.db import models
from django.test import Client

from gridcase.cases.models import Case, CaseDepartment, CaseEvent, CaseHop, Category, ExtensionRequest

pytestmark = pytest.mark.django_db


def snapshot(case):
    row = Case.objects.filter(pk=case.pk).values().get()
    return (row, list(CaseDepartment.objects.filter(case=case).values()),
            list(CaseHop.objects.filter(case=case).values()), CaseEvent.objects.filter(case=case).count())


@pytest.fixture
def admin_client(city):
    c = Client()
    c.force_login(city.admin)
    return c


def test_superuser_sees_a_case_in_the_admin_but_cannot_post_a_change(city, make_case, admin_client,
                                                                      drive, category):
    other = make_case(title="另一件")
    case = drive(make_case(), "accept")
    CaseDepartment.objects.create(case=case, department=city.department, whistled_at=case.created_at,
                                  report_by=case.created_at)
    before = snapshot(case)
    url = f"/admin/cases/case/{case.pk}/change/"
    page = admin_client.get(url)
    assert page.status_code == 200 and case.number in page.content.decode()
    assert 'name="_save"' not in page.content.decode()  # a view, not a form
    mental = Category.objects.get(code="care_mental")
    form = {
        "number": case.number, "title": "改过的标题", "description": "x", "category": mental.pk,
        "grid": city.sibling_micro.pk, "owner_grid": city.community.pk, "status": "closed", "priority": "urgent",
        "assignee": city.worker.pk, "merged_into": other.pk, "version": 99, "source": "patrol",
        "created_at_0": "2020-01-01", "created_at_1": "00:00:00", "updated_at_0": "2020-01-01",
        "updated_at_1": "00:00:00", "accept_by_0": "2020-01-01", "accept_by_1": "00:00:00",
        "case_departments-TOTAL_FORMS": "1", "case_departments-INITIAL_FORMS": "1",
        "case_departments-0-id": str(case.case_departments.get().pk), "case_departments-0-case": str(case.pk),
        "case_departments-0-DELETE": "on",
        "hops-TOTAL_FORMS": "0", "hops-INITIAL_FORMS": "0", "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0",
        "_save": "Save",
    }
    assert admin_client.post(url, form).status_code == 403
    assert admin_client.post("/admin/cases/case/add/", form).status_code == 403
    assert admin_client.post(f"/admin/cases/case/{case.pk}/delete/", {"post": "yes"}).status_code == 403
    # The list's bulk delete is not offered, and posting it anyway deletes nothing.
    assert "delete_selected" not in admin_client.get("/admin/cases/case/").content.decode()
    admin_client.post("/admin/cases/case/", {"action": "delete_selected", "_selected_action": [case.pk, other.pk],
                                             "post": "yes"})
    assert snapshot(case) == before
    assert Case.objects.count() == 2


def test_no_admin_page_can_write_a_case_or_what_hangs_off_it(city, make_case):
    """Every admin of a case-related model (a foreign key to Case) and every inline on the case admin
    refuses add, change and delete, for a superuser too."""
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = city.admin
    case = make_case()
    checked = []
    for model, model_admin in admin.site._registry.items():
        related = model is Case or any(isinstance(f, models.ForeignKey) and f.related_model is Case
                                       for f in model._meta.get_fields())
        if not related:
            continue
        targets = [model_admin] + ([i(model, admin.site) for i in model_admin.inlines] if model is Case else [])
        for target in targets:
            checked.append(target.model.__name__)
            inline = isinstance(target, InlineModelAdmin)
            assert not (target.has_add_permission(request, case) if inline else target.has_add_permission(request))
            assert not target.has_change_permission(request, case), target
            assert not target.has_delete_permission(request, case), target
    assert {"Case", "CaseDepartment", "CaseHop", "CaseEvent", "ExtensionRequest", "Attachment"} <= set(checked)


def test_an_extension_cannot_be_granted_in_the_admin(city, make_case, admin_client, drive):
    case = drive(make_case(), "accept")
    ext = ExtensionRequest.objects.create(case=case, stage="accept", hours=24, reason="等配件",
                                          requested_by=city.worker, requested_at=case.created_at)
    r = admin_client.post(f"/admin/cases/extensionrequest/{ext.pk}/change/",
                          {"case": case.pk, "stage": "accept", "hours": 240, "state": "approved"})
    assert r.status_code == 403
    ext.refresh_from_db()
    assert ext.state == "pending" and ext.hours == 24
