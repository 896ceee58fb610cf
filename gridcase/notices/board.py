"""The public notice board (居务公开): a community's page and the notices on its micro-grids' QR pages.

No sign-in. Only notices for residents (`audience=residents`) that are published and not expired are shown. A
micro-grid's QR page shows those sent to it or to a grid above it; the community's page also those sent to any
grid inside it (each says where it applies). A token that is neither a community's nor a micro-grid's is 404.
"""

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridcase.core.errors import NotFound
from gridcase.grids import areas, tree
from gridcase.grids.choices import Level
from gridcase.grids.models import Grid

from .models import Audience, Notice, NoticeAttachment, State

LIMIT = 50


def board_grid(token: str) -> Grid:
    token = str(token or "")[:32]
    grid = Grid.objects.filter(qr_token=token, level__in=[Level.COMMUNITY, Level.MICRO_GRID]).first()
    if grid is None:
        if Grid.objects.filter(qr_token=token).exists() is False:
            from gridcase.intake.services import grid_for_token

            grid_for_token(token)  # a retired micro-grid code says so
        raise NotFound(_("This notice board is not known."), code="unknown_board")
    return grid


def current_q(now=None) -> Q:
    now = now or timezone.now()
    return Q(state=State.PUBLISHED) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))


def public_notices(grid, now=None):
    span = tree.span(grid)
    where = tree.covering_q([span], "grid__")
    if grid.level == Level.COMMUNITY:
        where |= tree.subtree_q([span], "grid__")
    return (Notice.objects.filter(where, current_q(now), audience=Audience.RESIDENTS)
            .select_related("grid").prefetch_related("attachments").order_by("-published_at", "-id")[:LIMIT])


def board(grid, now=None) -> dict:
    community = areas.community_of(grid)
    return {"grid": {"name": grid.name, "level": grid.level},
            "community": {"name": community.name if community else "",
                          "board_token": community.qr_token if community else ""},
            "notices": list(public_notices(grid, now))}


def public_attachment(grid, attachment_id) -> NoticeAttachment:
    try:
        pk = int(attachment_id)
    except (TypeError, ValueError):
        raise NotFound()
    ids = [n.pk for n in public_notices(grid)]
    att = NoticeAttachment.objects.filter(pk=pk, notice_id__in=ids).first()
    if att is None:
        raise NotFound()
    return att
