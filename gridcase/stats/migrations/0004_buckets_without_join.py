"""Histogram rows carry their rollup's dimensions instead of pointing at it (read without a join).

Rollups are derived data: the bucket tables are recreated empty and the next refresh rebuilds everything.
"""

import django.db.models.deletion
from django.db import migrations, models


def rebuild_on_next_refresh(apps, schema_editor):
    apps.get_model("stats", "RollupState").objects.update(last_run_at=None)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0002_taxonomy"),
        ("grids", "0002_default_tags"),
        ("stats", "0003_monthly"),
    ]

    operations = [
        migrations.DeleteModel(name="CaseRollupBucket"),
        migrations.DeleteModel(name="CaseMonthlyBucket"),
        migrations.CreateModel(
            name="CaseRollupBucket",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField()),
                ("source", models.CharField(max_length=16)),
                ("sensitive", models.BooleanField(default=False)),
                ("bucket", models.PositiveSmallIntegerField()),
                ("count", models.PositiveIntegerField()),
                ("category", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                               to="cases.category")),
                ("dedicated_grid", models.ForeignKey(blank=True, null=True,
                                                     on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                                     to="grids.grid")),
                ("grid", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                           to="grids.grid")),
            ],
            options={
                "indexes": [models.Index(fields=["grid", "day"], name="case_bucket_grid_day")],
                "constraints": [models.UniqueConstraint(
                    fields=("day", "grid", "dedicated_grid", "category", "source", "sensitive", "bucket"),
                    name="case_rollup_bucket_unique", nulls_distinct=False)],
            },
        ),
        migrations.CreateModel(
            name="CaseMonthlyBucket",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("month", models.DateField()),
                ("sensitive", models.BooleanField(default=False)),
                ("bucket", models.PositiveSmallIntegerField()),
                ("count", models.PositiveIntegerField()),
                ("dedicated_grid", models.ForeignKey(blank=True, null=True,
                                                     on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                                     to="grids.grid")),
                ("grid", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                           to="grids.grid")),
            ],
            options={
                "indexes": [models.Index(fields=["grid", "month"], name="case_mbucket_grid_month")],
                "constraints": [models.UniqueConstraint(
                    fields=("month", "grid", "dedicated_grid", "sensitive", "bucket"),
                    name="case_monthly_bucket_unique", nulls_distinct=False)],
            },
        ),
        migrations.RunPython(rebuild_on_next_refresh, migrations.RunPython.noop),
    ]
