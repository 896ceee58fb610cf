import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from gridcase.campaigns import launching
from gridcase.campaigns.models import Campaign, CampaignTask
from gridcase.grids.choices import Role

from .. import factories as f

CHECKLIST = [
    {"key": "charging", "text": "楼道内是否有电动车充电", "type": "yes_no", "required": True,
     "problem": {"equals": True}, "category": "safety_ebike"},
    {"key": "bikes", "text": "楼道停放电动车数量", "type": "number", "required": False},
    {"key": "exit", "text": "安全出口", "type": "choice", "choices": ["畅通", "堵塞"], "required": True,
     "problem": {"equals": "堵塞"}},
    {"key": "photo", "text": "现场照片", "type": "photo", "required": False},
    {"key": "note", "text": "备注", "type": "text", "required": False},
]


def good(**kw):
    return {"charging": False, "exit": "畅通", **kw}


@pytest.fixture
def other_worker(city):
    return f.member(f.UserFactory(username="otherworker"), city.other_micro, Role.MICRO_GRID_WORKER)


@pytest.fixture
def launched(city, other_worker):
    """A street campaign over every household of both communities, launched (tasks created)."""
    today = timezone.localdate()
    campaign = Campaign.objects.create(name="楼道充电排查", grid=city.street, target="household", checklist=CHECKLIST,
                                       starts_on=today, ends_on=today + timedelta(days=7), owner=city.dispatcher,
                                       created_by=city.dispatcher)
    launching.request_launch(city.dispatcher, campaign)
    launching.run(campaign.pk)
    campaign.refresh_from_db()
    return campaign


def task_of(campaign, household):
    return CampaignTask.objects.get(campaign=campaign, household=household)


def body(answers, key=None):
    return {"client_uuid": str(key or uuid.uuid4()), "answers": answers}
