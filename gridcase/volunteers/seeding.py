"""Demo: a building lead (楼栋长) with a light account — login 13900000088, password the demo password — a unit
lead and an in-service Party member volunteer; the lead's check-in on an elderly neighbour; a coming 义诊 the lead
signed up for and a past clean-up whose attendance was recorded (its hours earn points). Idempotent."""

from datetime import timedelta

from django.utils import timezone

from gridcase.core.seeding import DEMO_PASSWORD
from gridcase.grids.choices import Level, Role
from gridcase.grids.models import Building, Grid, Membership, Resident

from . import services
from .models import Activity, SignUp, Volunteer

LEAD_PHONE = "13900000088"


def seed_demo(ctx):
    community = Grid.objects.filter(level=Level.COMMUNITY).order_by("code").first()
    m = Membership.objects.filter(grid=community, role=Role.SECRETARY).select_related("user").first() if community \
        else None
    building = (Building.objects.filter(grid__parent=community, units__households__residents__isnull=False)
                .order_by("grid__code", "code").first()) if community else None
    if m is None or building is None:
        ctx.log("volunteers: no community with a secretary and residents, nothing seeded")
        return
    secretary = m.user
    lead = Volunteer.objects.filter(user__username=LEAD_PHONE).first()
    if lead is None:
        resident = Resident.objects.filter(household__unit__building=building).order_by("id").first()
        lead = services.register(secretary, role="building_lead", building=building, phone=LEAD_PHONE,
                                 display_name="张桂芳（楼栋长）", password=DEMO_PASSWORD, resident=resident)
        unit = building.units.order_by("id").last()
        services.register(secretary, role="unit_lead", unit=unit, phone="13900000089", display_name="刘建华（单元长）",
                          password=DEMO_PASSWORD)
        services.register(secretary, role="party_member", grid=unit.micro_grid, phone="13900000090",
                          display_name="王磊（在职党员）", password=DEMO_PASSWORD)
        elderly = (Resident.objects.filter(household__unit__building=building, tags__code="elderly_alone").first()
                   or Resident.objects.filter(household__unit__building=building).order_by("-id").first())
        services.check_in(lead.user, {"client_uuid": "00000000-0000-4000-8000-000000000088", "resident": elderly.pk,
                                      "wellbeing": "attention", "note": "老人说这两天腿疼，已提醒家属，明天再去看看。"})
        now = timezone.now()
        clinic = Activity.objects.create(grid=community, title="社区义诊", place="社区服务站一楼",
                                         description="三甲医院医生坐诊，量血压、测血糖，欢迎志愿者协助引导。",
                                         starts_at=now + timedelta(days=3), ends_at=now + timedelta(days=3, hours=3),
                                         capacity=10, hours=3, created_by=secretary)
        services.sign_up(lead.user, clinic.pk)
        cleanup = Activity.objects.create(grid=community, title="楼道清洁日", place=building.name,
                                          starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=3),
                                          hours=2, created_by=secretary)
        row, _ = services.sign_up(lead.user, cleanup.pk)
        Activity.objects.filter(pk=cleanup.pk).update(starts_at=now - timedelta(days=2),
                                                      ends_at=now - timedelta(days=2) + timedelta(hours=2))
        services.record_attendance(secretary, SignUp.objects.select_related("activity__grid", "volunteer").get(
            pk=row.pk), True)
    ctx.log(f"volunteers: building lead of {building.name}: login {LEAD_PHONE} / the demo password")
