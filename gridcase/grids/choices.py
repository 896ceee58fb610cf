from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    DISTRICT = "district", _("district")
    STREET = "street", _("street")
    COMMUNITY = "community", _("community")
    GRID = "grid", _("general grid")
    MICRO_GRID = "micro_grid", _("micro-grid")
    DEDICATED = "dedicated", _("dedicated grid")


# Which levels a level may sit under (None: may be a root).
ALLOWED_PARENTS = {
    Level.DISTRICT: {None},
    Level.STREET: {None, Level.DISTRICT},
    Level.COMMUNITY: {Level.STREET},
    Level.GRID: {Level.COMMUNITY},
    Level.DEDICATED: {Level.COMMUNITY},
    Level.MICRO_GRID: {Level.GRID},
}

# Order used by escalation: a case moves to the nearest ancestor of a higher rank.
LEVEL_RANK = {
    Level.MICRO_GRID: 0,
    Level.DEDICATED: 1,
    Level.GRID: 1,
    Level.COMMUNITY: 2,
    Level.STREET: 3,
    Level.DISTRICT: 4,
}


class Role(models.TextChoices):
    MICRO_GRID_WORKER = "micro_grid_worker", _("micro-grid worker")
    GRID_WORKER = "grid_worker", _("grid worker")
    GRID_LEADER = "grid_leader", _("grid leader")
    SECRETARY = "secretary", _("community secretary")
    STREET_DISPATCHER = "street_dispatcher", _("street dispatcher")
    VIEWER = "viewer", _("viewer")
    ADMIN = "admin", _("administrator")


# The named sets of roles (who may edit, manage, see sensitive cases, …) are in roles.py.


class Gender(models.TextChoices):
    MALE = "male", _("male")
    FEMALE = "female", _("female")
    UNKNOWN = "unknown", _("unknown")


class ResidentStatus(models.TextChoices):
    """Where a resident stands in the register: living here, moved out (迁出) or deceased (死亡). A resident who is
    not active leaves the round (care plan ended) but keeps their history: visits, cases, the ended plan."""

    ACTIVE = "active", _("living here")
    MOVED_OUT = "moved_out", _("moved out")
    DECEASED = "deceased", _("deceased")


class DedicatedKind(models.TextChoices):
    SCHOOL = "school", _("school")
    HOSPITAL = "hospital", _("hospital")
    ENTERPRISE = "enterprise", _("enterprise")
    MARKET = "market", _("market")
    OTHER = "other", _("other")


DEFAULT_TAGS = [
    ("elderly_alone", "独居老人", "Elderly living alone"),
    ("elderly_80", "高龄老人", "Aged 80 and over"),
    ("disabled", "残疾人", "Disabled"),
    ("mental_disorder", "精神障碍", "Mental disorder"),
    ("children_difficulty", "困境儿童", "Children in difficulty"),
    ("low_income", "低保户", "Low-income (dibao)"),
    ("veteran", "退役军人", "Veteran"),
    ("left_behind", "留守人员", "Left-behind"),
]

TAG_ALIASES = {
    "elderly_alone": ["独居", "独居老年人", "孤寡老人", "空巢独居"],
    "elderly_80": ["高龄", "80岁以上", "80周岁以上", "八十岁以上", "高龄老年人"],
    "disabled": ["残疾", "残障", "残疾人员", "持证残疾人"],
    "mental_disorder": ["精神病", "精神病人", "精神障碍患者", "严重精神障碍", "严重精神障碍患者", "精神残疾"],
    "children_difficulty": ["困境未成年人", "事实无人抚养儿童"],
    "low_income": ["低保", "低保户", "低保对象", "最低生活保障", "城市低保", "农村低保"],
    "veteran": ["退伍军人", "复员军人", "转业军人", "退役士兵"],
    "left_behind": ["留守", "留守老人", "留守儿童", "留守妇女"],
}
"""The words offices write in their 台账 for each default tag (an import reads them as that tag)."""
