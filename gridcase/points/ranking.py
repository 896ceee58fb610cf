"""Monthly rankings of workers per grid level: the sum of a month's entries that count inside a grid's subtree,
highest first, with competition ranks (1, 2, 2, 4). "本月积分 128，全社区第 5": `standing()`."""

from datetime import date

from django.contrib.auth import get_user_model
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridcase.core.errors import ValidationFailed
from gridcase.grids import areas, tree
from gridcase.grids.accounts import display_name
from gridcase.grids.models import Grid, Membership

from .models import PointEntry


def parse_month(value) -> date:
    if not value:
        return timezone.localdate().replace(day=1)
    try:
        year, month = (int(x) for x in str(value).split("-"))
        return date(year, month, 1)
    except (TypeError, ValueError):
        raise ValidationFailed(_("Enter a month as YYYY-MM."), code="invalid_month",
                               fields={"month": [_("Enter a month as YYYY-MM.")]})


def totals(node, month: date) -> list[dict]:
    """[{user, name, points, rank}] for the workers with entries counting inside `node` in `month`."""
    rows = list(PointEntry.objects.filter(tree.subtree_q([tree.span(node)], "grid__"), month=month,
                                          user__isnull=False)
                .values("user_id").annotate(points=Sum("points")).order_by("-points", "user_id"))
    users = get_user_model().objects.in_bulk([r["user_id"] for r in rows])
    out, rank, previous = [], 0, None
    for i, r in enumerate(rows, 1):
        if r["points"] != previous:
            rank, previous = i, r["points"]
        out.append({"user": r["user_id"], "name": display_name(users[r["user_id"]]), "points": r["points"],
                    "rank": rank})
    return out


def community_of_user(user):
    """The community a worker belongs to: of the grid of their first membership."""
    grid_id = Membership.objects.filter(user=user).order_by("id").values_list("grid_id", flat=True).first()
    if grid_id is None:
        return None
    grid = Grid.objects.get(pk=grid_id)
    return areas.community_of(grid) or grid


def standing(user, month: date) -> dict:
    community = community_of_user(user)
    mine = PointEntry.objects.filter(user=user, month=month).aggregate(p=Sum("points"))["p"] or 0
    if community is None:
        return {"month": month.strftime("%Y-%m"), "points": mine, "rank": None, "of": 0, "grid": None}
    rows = totals(community, month)
    rank = next((r["rank"] for r in rows if r["user"] == user.pk), None)
    return {"month": month.strftime("%Y-%m"), "points": mine, "rank": rank, "of": len(rows),
            "grid": {"id": community.pk, "name": community.name, "level": community.level}}
