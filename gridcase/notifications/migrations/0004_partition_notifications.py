"""Notifications partitioned by month (PostgreSQL; nothing elsewhere). A delivery's foreign key keeps no
database constraint (a partitioned table's id alone is not a unique key; the ORM still cascades deletes);
(recipient, dedupe_key) stays unique through the notifications_notification_key table.
See gridcase/core/partitions.py."""

import django.db.models.deletion
from django.db import migrations, models


def partition(apps, schema_editor):
    from gridcase.core import partitions

    partitions.convert_all(schema_editor.connection, ["notifications_notification"])


def unpartition(apps, schema_editor):
    from gridcase.core import partitions

    partitions.unconvert_all(schema_editor.connection, ["notifications_notification"])


class Migration(migrations.Migration):
    dependencies = [("notifications", "0003_alter_notification_kind")]

    operations = [
        migrations.AlterField(
            model_name="delivery", name="notification",
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE,
                                    related_name="deliveries", to="notifications.notification"),
        ),
        migrations.RunPython(partition, unpartition, elidable=False),
    ]
