"""Visits partitioned by month (PostgreSQL; nothing elsewhere); client_uuid stays unique through the
visits_visit_key table. See gridcase/core/partitions.py."""

from django.db import migrations


def partition(apps, schema_editor):
    from gridcase.core import partitions

    partitions.convert_all(schema_editor.connection, ["visits_visit"])


def unpartition(apps, schema_editor):
    from gridcase.core import partitions

    partitions.unconvert_all(schema_editor.connection, ["visits_visit"])


class Migration(migrations.Migration):
    dependencies = [("visits", "0005_patrol_photo")]

    operations = [migrations.RunPython(partition, unpartition, elidable=False)]
