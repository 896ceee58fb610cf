from django.db import models
from django.utils.translation import gettext_lazy as _


class ContactKind(models.TextChoices):
    HOME = "home", _("home visit")
    PHONE = "phone", _("phone call")
    VIDEO = "video", _("video call")
    OUTREACH = "outreach", _("outreach with a doctor")


class Wellbeing(models.TextChoices):
    GOOD = "good", _("good")
    ATTENTION = "attention", _("needs attention")
    URGENT = "urgent", _("urgent")


class Need(models.TextChoices):
    MEDICAL = "medical", _("medical care")
    MEALS = "meals", _("meals")
    CLEANING = "cleaning", _("cleaning")
    COMPANIONSHIP = "companionship", _("companionship")
    REPAIRS = "repairs", _("repairs")
    BENEFITS = "benefits", _("benefits")


# A contact of a stronger kind also counts as the weaker one: after a home visit today nobody needs
# to phone the same person today. (Outreach with a doctor is a door-to-door visit.)
SATISFIED_BY = {
    ContactKind.PHONE: {ContactKind.PHONE, ContactKind.VIDEO, ContactKind.HOME, ContactKind.OUTREACH},
    ContactKind.VIDEO: {ContactKind.VIDEO, ContactKind.HOME, ContactKind.OUTREACH},
    ContactKind.HOME: {ContactKind.HOME, ContactKind.OUTREACH},
    ContactKind.OUTREACH: {ContactKind.OUTREACH},
}

# Kinds that are in person: their due dates may move off public holidays (see cadence.py).
IN_PERSON = {ContactKind.HOME, ContactKind.OUTREACH}

# Worrying wellbeing raises the cadence of phone calls to daily until a later contact says `good`.
ESCALATING = {Wellbeing.ATTENTION, Wellbeing.URGENT}
ESCALATED_KIND = ContactKind.PHONE
ESCALATED_EVERY_N_DAYS = 1

# Default rules, installed by a data migration: (tag code, kind, every n days). 30 = a calendar month.
DEFAULT_CADENCES = [
    ("elderly_alone", ContactKind.HOME, 7),
    ("elderly_alone", ContactKind.PHONE, 2),
    ("elderly_80", ContactKind.HOME, 14),
    ("elderly_80", ContactKind.PHONE, 7),
    ("elderly_80", ContactKind.OUTREACH, 90),
    ("disabled", ContactKind.HOME, 14),
    ("disabled", ContactKind.PHONE, 7),
    ("disabled", ContactKind.OUTREACH, 90),
    ("mental_disorder", ContactKind.HOME, 14),
    ("mental_disorder", ContactKind.PHONE, 7),
    ("children_difficulty", ContactKind.HOME, 14),
    ("children_difficulty", ContactKind.PHONE, 7),
    ("low_income", ContactKind.HOME, 30),
    ("veteran", ContactKind.HOME, 90),
    ("veteran", ContactKind.PHONE, 30),
    ("left_behind", ContactKind.HOME, 30),
    ("left_behind", ContactKind.PHONE, 7),
]
