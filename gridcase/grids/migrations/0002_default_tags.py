from django.db import migrations

from gridcase.grids.choices import DEFAULT_TAGS


def create_tags(apps, schema_editor):
    Tag = apps.get_model("grids", "Tag")
    for code, name, name_en in DEFAULT_TAGS:
        Tag.objects.update_or_create(code=code, defaults={"name": name, "name_en": name_en})


class Migration(migrations.Migration):
    dependencies = [("grids", "0001_initial")]
    operations = [migrations.RunPython(create_tags, migrations.RunPython.noop)]
