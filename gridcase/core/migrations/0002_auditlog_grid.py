import django.db.models.deletion
from django.db import migrations, models
from django.db.models import BigIntegerField, OuterRef, Subquery
from django.db.models.functions import Cast


def backfill(apps, schema_editor):
    """Entries written before the column: the grid of the resident, case or import review they name."""
    AuditLog = apps.get_model("core", "AuditLog")
    for label, app, model in (("grids.resident", "grids", "Resident"), ("cases.case", "cases", "Case"),
                              ("grids.importreview", "grids", "ImportReview")):
        Model = apps.get_model(app, model)
        owner = Model.objects.filter(pk=Cast(OuterRef("object_id"), BigIntegerField())).values("grid_id")[:1]
        AuditLog.objects.filter(object_type=label, object_id__regex=r"^[0-9]+$").update(grid_id=Subquery(owner))
    Grid = apps.get_model("grids", "Grid")
    grid = Grid.objects.filter(pk=Cast(OuterRef("object_id"), BigIntegerField())).values("pk")[:1]
    AuditLog.objects.filter(object_type="grids.grid", object_id__regex=r"^[0-9]+$").update(grid_id=Subquery(grid))


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0001_initial"),
        ("grids", "0004_import_review"),
        ("cases", "0004_calendar"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditlog",
            name="grid",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="+", to="grids.grid"),
        ),
        migrations.AddIndex(
            model_name="auditlog",
            index=models.Index(fields=["grid", "at"], name="auditlog_grid_at_idx"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
