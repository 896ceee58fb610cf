"""Reminders before a campaign's deadline: each worker with tasks not yet done hears once, REMIND_DAYS before
the end (through the notification outbox, so it is sent once even with several workers or a crash)."""

from datetime import timedelta

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Campaign, CampaignStatus, CampaignTask, TaskStatus

REMIND_DAYS = 2


def remind(today=None) -> int:
    from gridcase.notifications.models import Kind
    from gridcase.notifications.services import notify

    today = today or timezone.localdate()
    sent = 0
    for campaign in Campaign.objects.filter(status=CampaignStatus.RUNNING, ends_on__gte=today,
                                            ends_on__lte=today + timedelta(days=REMIND_DAYS)):
        pending = (CampaignTask.objects.filter(campaign=campaign, status=TaskStatus.PENDING, worker__isnull=False)
                   .values("worker_id").annotate(n=Count("id")).order_by())
        for row in pending:
            title = _("%(name)s: %(n)s tasks not yet done") % {"name": campaign.name, "n": row["n"]}
            body = _("The campaign ends on %(day)s.") % {"day": campaign.ends_on.isoformat()}
            sent += notify([row["worker_id"]], Kind.OTHER, str(title), str(body),
                           dedupe_key=f"campaign:{campaign.pk}:remind", payload={"campaign": campaign.pk})
    return sent
