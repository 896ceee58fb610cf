"""A campaign's results as XLSX (gridcase.core.spreadsheet: no cell runs as a formula), inside the caller's scope."""

from django.utils import timezone
from django.utils.translation import gettext as _

from gridcase.core.spreadsheet import xlsx_bytes
from gridcase.grids.accounts import display_name

from .models import CampaignTask, TaskStatus

STATUS_LABEL = dict(TaskStatus.choices)


def rows(campaign, user):
    tasks = (CampaignTask.objects.restrict(user).filter(campaign_id=campaign.pk)
             .select_related("grid", "building", "unit", "household", "resident", "worker", "answered_by", "case")
             .order_by("grid__code", "building__code", "unit__name", "household__room", "id"))
    for t in tasks.iterator(chunk_size=2000):
        answers = [_format(q, t.answers.get(q["key"])) for q in campaign.checklist]
        yield [t.grid.name, t.grid.code, t.building.name if t.building_id else "", t.unit.name if t.unit_id else "",
               t.household.room if t.household_id else "", t.resident.name if t.resident_id else "",
               display_name(t.worker) if t.worker_id else "", str(STATUS_LABEL[t.status]),
               timezone.localtime(t.answered_at).replace(tzinfo=None) if t.answered_at else None,
               display_name(t.answered_by) if t.answered_by_id else "", *answers,
               t.case.number if t.case_id else ""]


def _format(question, value):
    if value is None:
        return ""
    if question["type"] == "yes_no":
        return _("yes") if value else _("no")
    if question["type"] == "photo":
        return _("photo")
    return value


def xlsx(campaign, user) -> bytes:
    header = [_("grid"), _("grid code"), _("building"), _("unit"), _("room"), _("resident"), _("worker"),
              _("status"), _("answered at"), _("answered by"), *[q["text"] for q in campaign.checklist], _("case")]
    return xlsx_bytes(header, rows(campaign, user), title=campaign.name)
