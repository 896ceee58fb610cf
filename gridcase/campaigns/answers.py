"""Answering a campaign task on the phone: once, checked against the checklist, a problem opens a case.

- Who: the task's worker, or grid staff holding the task's grid (a colleague covering).
- Exactly once: the phone sends a `client_uuid` chosen when the answer was written (it may wait offline in the
  phone's queue). The same uuid with the same content answers the stored task (200); different content under it,
  or a task already answered under another uuid, is a conflict (409) and nothing is overwritten. The write is a
  compare-and-set on the pending task, so two phones answering at once store one answer.
- An answer meeting a question's problem rule (checklist.py) opens a case through the case workflow's
  `create_case` (client key derived from the uuid: once however often it is resent), with the answers in its
  description and the photos attached.
- The task's points (gridcase.points) are written in the same transaction.
"""

import hashlib
import io
import json

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

from gridcase.core.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from gridcase.grids.roles import VISIT_ROLES
from gridcase.grids.scoping import scope_for

from . import checklist as checklists
from .models import Campaign, CampaignStatus, CampaignTask, TaskPhoto, TaskStatus

ANSWER_ROLES = VISIT_ROLES
"""Answer a task on a grid they hold (the people who visit that grid's households), besides its own worker."""

PHOTO_FORMATS = ("JPEG", "PNG", "WEBP")


def digest(task_id: int, answers: dict, photos: dict) -> str:
    canonical = {"task": task_id, "answers": answers}
    for key in sorted(photos):
        h = hashlib.sha256()
        for chunk in photos[key].chunks():
            h.update(chunk)
        photos[key].seek(0)
        canonical[f"photo:{key}"] = h.hexdigest()
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _check_photo(key, upload):
    if upload.size > settings.ATTACHMENT_MAX_BYTES:
        raise ValidationFailed(_("Photo %(key)s is too large.") % {"key": key}, code="too_large",
                               fields={f"photo_{key}": [_("Photo too large.")]})
    try:
        raw = upload.read()
        with Image.open(io.BytesIO(raw)) as probe:
            fmt = probe.format
            probe.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        fmt = None
    upload.seek(0)
    if fmt not in PHOTO_FORMATS:
        raise ValidationFailed(_("Photo %(key)s: only JPEG, PNG or WebP.") % {"key": key}, code="invalid_answer",
                               fields={f"photo_{key}": [_("Only JPEG, PNG or WebP photos can be attached.")]})


def may_answer(scope, task) -> bool:
    return scope.is_global or task.worker_id == scope.user_id or bool(scope.roles_at(task.grid) & ANSWER_ROLES)


def answer(actor, task_id, data: dict, photos: dict | None = None) -> tuple[CampaignTask, bool]:
    """Store a task's answers once; returns (task, created)."""
    photos = dict(photos or {})
    scope = scope_for(actor)
    task = (CampaignTask.objects.restrict(actor).select_related("campaign", "grid")
            .filter(pk=task_id).first())
    if task is None:
        raise NotFound()
    if not may_answer(scope, task):
        raise Forbidden(_("Only the task's worker or staff of its grid can answer it."))
    campaign: Campaign = task.campaign
    if campaign.status != CampaignStatus.RUNNING:
        raise InvalidTransition(_("This campaign is not running."), code="campaign_not_running")
    client_uuid = data.get("client_uuid")
    if client_uuid is None:
        raise ValidationFailed(fields={"client_uuid": [_("This field is required.")]})
    photo_keys = {q["key"] for q in campaign.checklist if q["type"] == "photo"}
    unknown = sorted(set(photos) - photo_keys)
    if unknown:
        raise ValidationFailed(_("Unknown photo question: %(keys)s") % {"keys": ", ".join(unknown)},
                               code="invalid_answer", fields={"answers": [", ".join(unknown)]})
    for key, upload in photos.items():
        _check_photo(key, upload)
    clean = checklists.check_answers(campaign.checklist, data.get("answers"), photos)
    content = digest(task.pk, clean, photos)
    found = checklists.problems(campaign.checklist, clean)
    answered_at = data.get("answered_at") or timezone.now()
    if answered_at > timezone.now() + timezone.timedelta(minutes=5):
        raise ValidationFailed(fields={"answered_at": [_("An answer cannot be in the future.")]})

    with transaction.atomic():
        replay = CampaignTask.objects.filter(client_uuid=client_uuid).first()
        if replay is not None:
            return _replay(replay, task, content)
        status = TaskStatus.PROBLEM if found else TaskStatus.DONE
        try:
            with transaction.atomic():
                changed = CampaignTask.objects.filter(pk=task.pk, status=TaskStatus.PENDING).update(
                    status=status, answers=clean, answered_at=answered_at, answered_by=actor,
                    client_uuid=client_uuid, content_hash=content)
        except IntegrityError:
            return _replay(CampaignTask.objects.get(client_uuid=client_uuid), task, content)
        if changed != 1:
            raise Conflict(_("This task was already answered."), code="already_answered",
                           current={"id": task.pk, "status": CampaignTask.objects.get(pk=task.pk).status})
        task.refresh_from_db()
        for key, upload in photos.items():
            photo = TaskPhoto(task=task, key=key)
            photo.file.save(upload.name or f"{key}.jpg", upload, save=False)
            photo.save()
        if found:
            task.case_id = open_case(actor, task, clean, found, photos)
            CampaignTask.objects.filter(pk=task.pk).update(case_id=task.case_id)
        from gridcase.points.rules import award

        award("campaign_task_done", task, actor, grid=task.grid, at=answered_at)
    return task, True


def _replay(existing: CampaignTask, task, content: str):
    if existing.pk == task.pk and existing.content_hash == content:
        return existing, False
    raise Conflict(_("A different answer was already sent with this client_uuid."), code="conflict",
                   current={"id": existing.pk, "status": existing.status} if existing.pk == task.pk else None)


def _describe(campaign, answers: dict) -> str:
    lines = []
    for q in campaign.checklist:
        if q["key"] in answers:
            value = answers[q["key"]]
            if q["type"] == "yes_no":
                value = _("yes") if value else _("no")
            elif q["type"] == "photo":
                value = _("photo attached")
            lines.append(f"{q['text']}：{value}")
    return "\n".join(str(x) for x in lines)


def place_name(task) -> str:
    parts = []
    if task.building_id:
        parts.append(task.building.name)
    if task.unit_id:
        parts.append(task.unit.name)
    if task.household_id:
        parts.append(task.household.room)
    if task.resident_id:
        parts.append(task.resident.name)
    return " ".join(parts)


def open_case(actor, task, answers: dict, found: list, photos: dict):
    """A case for the problem found, in the first problem question's category (or the campaign's)."""
    from gridcase.cases.models import Category
    from gridcase.cases.services import create_case, store_attachment

    campaign = task.campaign
    category = None
    for q in found:
        if q.get("category"):
            category = Category.objects.filter(code=q["category"], is_active=True).first()
            if category:
                break
    category = category or campaign.category
    if category is None:
        from gridcase.visits.services import default_case_category

        category = default_case_category()
    task = CampaignTask.objects.select_related("campaign", "grid", "building", "unit", "household",
                                               "resident").get(pk=task.pk)
    title = f"{campaign.name}：{found[0]['text']}"[:200]
    description = f"{place_name(task)}\n{_describe(campaign, answers)}"
    payload = {"grid": task.grid, "category": category, "title": title, "description": description,
               "source": "patrol", "channel": "campaign", "client_key": f"campaign-{task.client_uuid}",
               "building": task.building, "unit": task.unit, "household": task.household, "resident": task.resident}
    created = create_case(actor, payload)
    if created.created:
        for key in sorted(photos):
            photos[key].seek(0)
            store_attachment(actor, created.case, photos[key])
    return created.case.pk
