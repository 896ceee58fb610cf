"""Demo: a few notices of the demo community — one public (居务公开) with residents, one for workers, one scheduled
for tomorrow — and an emergency broadcast (a water cut) to the first general grid, acknowledged by some of its
workers so the chase list has names. Idempotent: each is published under its client key."""

from datetime import timedelta

from django.utils import timezone

from gridcase.grids.choices import Level, Role
from gridcase.grids.models import Grid, Membership

from . import receipts
from .models import Receipt
from .publishing import publish_notice


def _secretary(community):
    m = Membership.objects.filter(grid=community, role=Role.SECRETARY).select_related("user").order_by("id").first()
    return m.user if m else None


def seed_demo(ctx):
    community = Grid.objects.filter(level=Level.COMMUNITY).order_by("code").first()
    secretary = _secretary(community) if community else None
    grid = Grid.objects.filter(parent=community, level=Level.GRID).order_by("code").first() if community else None
    if secretary is None or grid is None:
        ctx.log("notices: no community with a secretary, nothing seeded")
        return
    now = timezone.now()
    publish_notice(secretary, grid=community, audience="residents", client_key="demo-notice-dibao",
                   title="居务公开：本季度低保及临时救助名单公示",
                   body="经入户调查、民主评议，以下家庭拟纳入本季度低保。公示期7天，如有异议请到社区服务站反映。",
                   expires_at=now + timedelta(days=30))
    publish_notice(secretary, grid=community, audience="residents", client_key="demo-notice-elevator",
                   title="加装电梯意见征集", body="3栋、5栋加装电梯方案已张贴在单元门口，请各户于本月底前反馈意见。")
    publish_notice(secretary, grid=community, client_key="demo-notice-meeting", title="本周五网格员例会",
                   body="周五下午3点，社区二楼会议室，内容：冬季安全隐患排查安排。")
    publish_notice(secretary, grid=community, audience="residents", client_key="demo-notice-scheduled",
                   title="明日起开展冬季消防检查", body="请各楼栋清理楼道杂物，电动车不要在楼道充电。",
                   publish_at=now + timedelta(days=1))
    broadcast = publish_notice(secretary, grid=grid, kind="broadcast", client_key="demo-broadcast-water",
                               title="紧急：明日8:00-18:00停水",
                               body="自来水公司管网抢修，明日8:00至18:00停水。请通知独居老人提前储水，重点户上门告知。")
    demo_users = {"micro0101", "micro0102"}  # left for the demo to acknowledge on the phone
    pending = list(Receipt.objects.filter(notice=broadcast, acked_at__isnull=True)
                   .exclude(user__username__in=demo_users).select_related("user").order_by("id"))
    for r in pending[: max(0, len(pending) - 1)]:
        receipts.acknowledge(r.user, broadcast.pk)
    done = Receipt.objects.filter(notice=broadcast, acked_at__isnull=False).count()
    ctx.log(f"notices: 4 notices, 1 broadcast to {grid.name} ({done}/{broadcast.recipients_count} acknowledged); "
            f"public board /intake/board/{community.qr_token}")
