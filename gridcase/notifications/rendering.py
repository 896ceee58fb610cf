"""What an outbound channel (e-mail, webhook) may say about a notification.

The inbox shows a notification in full to its recipient, inside the app. What leaves the system is
decided here, once, for every channel: a notification about a sensitive case (mental health, minors,
domestic violence — `Category.sensitive`) goes out as a neutral "you have a sensitive case" with a link,
never with the case's title or details. The check is made when the message is built, so no caller of
`notify()` can forget it; a case that cannot be read is treated as sensitive.
"""

from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from gridcase.grids.roles import CONSOLE_ROLES, MOBILE_ROLES  # the app a recipient opens (`home` of auth/me)


@dataclass(frozen=True)
class Outgoing:
    subject: str
    text: str
    link: str
    sensitive: bool


def is_sensitive(notification) -> bool:
    if not notification.case_id:
        return False
    case_model = apps.get_model("cases", "Case")
    row = (case_model._base_manager.filter(pk=notification.case_id)
           .values_list("sensitive", "category__sensitive").first())
    return row is None or any(row)


def app_path(user_id: int) -> str:
    membership = apps.get_model("grids", "Membership")
    department_member = apps.get_model("grids", "DepartmentMember")
    roles = set(membership.objects.filter(user_id=user_id).values_list("role", flat=True))
    if not roles:
        return "/dept" if department_member.objects.filter(user_id=user_id).exists() else "/console"
    return "/m" if roles & MOBILE_ROLES and not roles & CONSOLE_ROLES else "/console"


def link(notification) -> str:
    base = settings.PUBLIC_URL
    if notification.case_id:
        return f"{base}{app_path(notification.recipient_id)}/cases/{notification.case_id}"
    notice = (notification.payload or {}).get("notice")
    if notice and app_path(notification.recipient_id) == "/m":
        return f"{base}/m/notices"  # a notice or broadcast: the worker's list with 确认收到
    return f"{base}/"


def outgoing(notification) -> Outgoing:
    """Subject and text for e-mail and webhook, in the site's language (the recipient is not the caller)."""
    url = link(notification)
    with translation.override(settings.LANGUAGE_CODE):
        if is_sensitive(notification):
            return Outgoing(
                subject=str(_("You have a sensitive case")),
                text=str(_("A sensitive case needs your attention. Its details are shown only in GridCase: "
                           "%(link)s")) % {"link": url},
                link=url, sensitive=True)
        text = "\n".join(p for p in (notification.title, notification.body, url) if p)
        return Outgoing(subject=notification.title, text=text, link=url, sensitive=False)
