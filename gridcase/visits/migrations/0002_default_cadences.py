from django.db import migrations

# Frozen copy of choices.DEFAULT_CADENCES at the time of this migration: (tag code, kind, every n days).
DEFAULT_CADENCES = [
    ("elderly_alone", "home", 7),
    ("elderly_alone", "phone", 2),
    ("elderly_80", "home", 14),
    ("elderly_80", "phone", 7),
    ("elderly_80", "outreach", 90),
    ("disabled", "home", 14),
    ("disabled", "phone", 7),
    ("disabled", "outreach", 90),
    ("mental_disorder", "home", 14),
    ("mental_disorder", "phone", 7),
    ("children_difficulty", "home", 14),
    ("children_difficulty", "phone", 7),
    ("low_income", "home", 30),
    ("veteran", "home", 90),
    ("veteran", "phone", 30),
    ("left_behind", "home", 30),
    ("left_behind", "phone", 7),
]


def create_rules(apps, schema_editor):
    Tag = apps.get_model("grids", "Tag")
    CadenceRule = apps.get_model("visits", "CadenceRule")
    tags = dict(Tag.objects.values_list("code", "pk"))
    for code, kind, days in DEFAULT_CADENCES:
        if code in tags and not CadenceRule.objects.filter(community__isnull=True, tag_id=tags[code], kind=kind).exists():
            CadenceRule.objects.create(community=None, tag_id=tags[code], kind=kind, every_n_days=days)


def remove_rules(apps, schema_editor):
    apps.get_model("visits", "CadenceRule").objects.filter(community__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("visits", "0001_initial"), ("grids", "0002_default_tags")]
    operations = [migrations.RunPython(create_rules, remove_rules)]
