"""Demo and city data of the interop channels: a 12345 category mapping (illustrative codes: every city's
platform has its own list; the admin edits the table). Open311 clients are made by hand (`manage.py
open311_client`): a key is shown once, never seeded."""

from gridcase.cases.models import Category

from .models import HotlineCategory

# (hotline code, hotline name, GridCase category code)
HOTLINE_CATEGORIES = [
    ("0101", "邻里纠纷", "dispute_neighbour"),
    ("0102", "物业管理", "dispute_property"),
    ("0103", "停车管理", "dispute_parking"),
    ("0104", "家庭矛盾", "dispute_family"),
    ("0201", "消防安全", "safety_fire"),
    ("0202", "私拉乱接电线", "safety_wiring"),
    ("0203", "电动车违规充电", "safety_ebike"),
    ("0204", "燃气安全", "safety_gas"),
    ("0301", "楼道堆物", "env_stairwell"),
    ("0302", "下水道堵塞", "env_drain"),
    ("0303", "垃圾清运", "env_rubbish"),
    ("0401", "房屋漏水", "facility_leak"),
    ("0402", "道路破损", "facility_road"),
    ("0403", "路灯不亮", "facility_lighting"),
    ("0501", "养老认证", "livelihood_pension"),
    ("0502", "补贴申请", "livelihood_subsidy"),
    ("9999", "其他", "other"),
]


def seed_mapping(ctx):
    categories = {c.code: c for c in Category.objects.filter(code__in=[row[2] for row in HOTLINE_CATEGORIES])}
    made = 0
    for code, name, category_code in HOTLINE_CATEGORIES:
        if category_code in categories:
            _row, created = HotlineCategory.objects.get_or_create(
                code=code, defaults={"name": name, "category": categories[category_code]})
            made += created
    ctx.log(f"interop: 12345 category mapping, {made} new of {len(HOTLINE_CATEGORIES)} "
            "(Open311 keys: manage.py open311_client NAME --area GRID_CODE)")


def seed_demo(ctx):
    seed_mapping(ctx)


def seed_city(ctx):
    seed_mapping(ctx)
