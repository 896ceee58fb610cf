"""Case events and hops partitioned by month (PostgreSQL; nothing elsewhere). See gridcase/core/partitions.py."""

from django.db import migrations


def partition(apps, schema_editor):
    from gridcase.core import partitions

    partitions.convert_all(schema_editor.connection, ["cases_caseevent", "cases_casehop"])


def unpartition(apps, schema_editor):
    from gridcase.core import partitions

    partitions.unconvert_all(schema_editor.connection, ["cases_caseevent", "cases_casehop"])


class Migration(migrations.Migration):
    dependencies = [("cases", "0007_attachment_client_key")]

    operations = [migrations.RunPython(partition, unpartition, elidable=False)]
