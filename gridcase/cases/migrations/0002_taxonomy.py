"""A realistic starting taxonomy of case categories, default SLA policies and canned replies."""

from django.db import migrations

# (code, parent, zh, en, default priority, sensitive, entry level, skip from priority, department kinds)
CATEGORIES = [
    ("dispute", None, "矛盾纠纷", "Disputes", "normal", False, "", "", ""),
    ("dispute_family", "dispute", "家庭纠纷", "Family dispute", "normal", False, "", "", ""),
    ("dispute_neighbour", "dispute", "邻里纠纷", "Neighbour dispute", "normal", False, "", "", ""),
    ("dispute_property", "dispute", "物业纠纷", "Property-management dispute", "normal", False, "", "", ""),
    ("dispute_parking", "dispute", "停车纠纷", "Parking dispute", "normal", False, "", "", ""),
    ("safety", None, "安全隐患", "Safety hazards", "high", False, "", "", ""),
    ("safety_fire", "safety", "消防隐患", "Fire hazard", "high", False, "", "", ""),
    ("safety_wiring", "safety", "私拉电线（飞线）", "Illegal wiring (飞线)", "high", False, "", "", ""),
    ("safety_ebike", "safety", "电动车入户充电", "E-bike charging indoors", "high", False, "", "", ""),
    ("safety_gas", "safety", "燃气隐患", "Gas hazard", "urgent", False, "street", "urgent", "gas"),
    ("environment", None, "环境卫生", "Environment and sanitation", "normal", False, "", "", ""),
    ("env_stairwell", "environment", "楼道堆物", "Stairwell clutter", "normal", False, "", "", ""),
    ("env_drain", "environment", "下水道堵塞", "Blocked drain", "normal", False, "", "", ""),
    ("env_rubbish", "environment", "垃圾清运", "Rubbish not collected", "normal", False, "", "", ""),
    ("facility", None, "设施维修", "Facilities and repairs", "normal", False, "", "", ""),
    ("facility_leak", "facility", "房屋漏水", "Leak", "normal", False, "", "", ""),
    ("facility_road", "facility", "路面破损", "Damaged road surface", "normal", False, "", "", ""),
    ("facility_lighting", "facility", "路灯照明", "Street lighting", "low", False, "", "", ""),
    ("livelihood", None, "民生服务", "Livelihood services", "normal", False, "", "", ""),
    ("livelihood_pension", "livelihood", "养老认证", "Pension certification", "normal", False, "", "", ""),
    ("livelihood_subsidy", "livelihood", "补贴申请", "Subsidy application", "normal", False, "", "", ""),
    ("care", None, "特殊关爱", "Special care (sensitive)", "high", True, "", "", ""),
    ("care_mental", "care", "心理健康", "Mental health", "high", True, "", "", ""),
    ("care_minor", "care", "未成年人保护", "Protection of minors", "high", True, "", "", ""),
    ("care_domestic_violence", "care", "家庭暴力", "Domestic violence", "urgent", True, "", "", ""),
    ("other", None, "其他", "Other", "normal", False, "", "", ""),
]

# (category code or None, priority, owner level, stage, yellow h, red h, working hours, auto escalate)
POLICIES = [
    (None, "", "", "accept", 2, 4, True, False),
    (None, "", "", "handle", 22.5, 37.5, True, False),
    (None, "", "micro_grid", "handle", 15, 22.5, True, True),
    (None, "", "grid", "handle", 22.5, 37.5, True, True),
    (None, "", "community", "handle", 37.5, 75, True, False),
    (None, "", "street", "handle", 75, 150, True, False),
    (None, "", "", "verify", 7.5, 15, True, False),
    (None, "high", "", "handle", 7.5, 15, True, True),
    (None, "urgent", "", "accept", 0.5, 1, False, True),
    (None, "urgent", "", "handle", 4, 8, False, True),
    ("safety_gas", "", "", "accept", 0.25, 0.5, False, False),
    ("safety_gas", "", "", "handle", 2, 4, False, False),
    ("safety_fire", "", "", "handle", 4, 8, False, True),
    ("livelihood_pension", "", "", "handle", 15, 22.5, True, False),
]

TEMPLATES = [
    (None, "reported", "已受理告知", "您反映的问题已收到，我们将尽快安排网格员核实处理，请保持电话畅通。"),
    (None, "resolved", "办结回复", "您反映的问题已处理完毕，感谢您对社区工作的支持。如仍有问题，请随时联系网格员。"),
    (None, "rejected", "不予受理说明", "经核实，该事项不属于社区网格受理范围，建议您拨打12345热线或联系相关部门。"),
    ("dispute_parking", "in_progress", "停车协商", "已联系物业和相关车主，拟于近日组织居民议事协商会，共同商定停车方案。"),
    ("dispute_family", "in_progress", "家庭调解", "网格员已上门了解情况，将会同社区调解委员会开展调解。"),
    ("facility_leak", "in_progress", "漏水维修", "已通知物业维修人员上门查看漏点，维修期间请注意用电安全。"),
    ("safety_wiring", "in_progress", "飞线整改", "已告知住户私拉电线充电存在火灾隐患，督促拆除飞线并引导至集中充电桩充电。"),
    ("safety_ebike", "in_progress", "电动车劝导", "已劝导住户将电动车停放至集中充电区域，严禁入户充电。"),
    ("livelihood_pension", "resolved", "养老认证完成", "已上门为老人完成养老金资格认证。"),
    ("env_stairwell", "resolved", "楼道清理完毕", "楼道堆放杂物已清理完毕，消防通道恢复畅通。"),
]


def forwards(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    SlaPolicy = apps.get_model("cases", "SlaPolicy")
    ResponseTemplate = apps.get_model("cases", "ResponseTemplate")
    by_code = {}
    for i, (code, parent, zh, en, prio, sensitive, entry, skip, kinds) in enumerate(CATEGORIES):
        by_code[code], _ = Category.objects.update_or_create(code=code, defaults=dict(
            parent=by_code.get(parent), name=zh, name_en=en, default_priority=prio, sensitive=sensitive,
            entry_level=entry, skip_min_priority=skip, department_kinds=kinds, sort=i * 10))
    for code, prio, level, stage, yellow, red, working, auto in POLICIES:
        SlaPolicy.objects.update_or_create(
            category=by_code.get(code), priority=prio, owner_level=level, stage=stage,
            defaults=dict(yellow_hours=yellow, red_hours=red, working_hours=working, auto_escalate=auto))
    for i, (code, status, title, body) in enumerate(TEMPLATES):
        ResponseTemplate.objects.get_or_create(category=by_code.get(code), status=status, title=title,
                                               defaults={"body": body, "sort": i})


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
