from django.db import migrations, models


def inactive_moved_out(apps, schema_editor):
    # Before statuses, "not active" meant moved away or deceased; without more to go on, call it moved out.
    apps.get_model("grids", "Resident").objects.filter(is_active=False).update(status="moved_out")


class Migration(migrations.Migration):

    dependencies = [
        ("grids", "0004_import_review"),
    ]

    operations = [
        migrations.AddField(
            model_name="resident",
            name="status",
            field=models.CharField(choices=[("active", "living here"), ("moved_out", "moved out"),
                                            ("deceased", "deceased")],
                                   default="active", editable=False, max_length=12, verbose_name="status"),
        ),
        migrations.AddField(
            model_name="resident",
            name="status_since",
            field=models.DateField(blank=True, editable=False, null=True, verbose_name="status since"),
        ),
        migrations.RunPython(inactive_moved_out, migrations.RunPython.noop),
    ]
