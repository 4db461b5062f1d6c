"""Indexes for the inbox's "unassigned, newest first" and "priority" sorts, built without
locking out writes (CREATE INDEX CONCURRENTLY on PostgreSQL).

On PostgreSQL, statistics on (status, assignee) too: new tickets are mostly unassigned, and
without them the planner expected a few dozen such rows at a million tickets (there were
thousands), joined them all to customers and only then sorted (150 ms instead of 5 ms).
"""

from django.conf import settings
from django.db import migrations, models

from helpdesk.migration_operations import AddIndexWithoutLocking

CREATE_STATISTICS = (
    "CREATE STATISTICS IF NOT EXISTS ticket_status_assignee (mcv) "
    "ON status, assignee_id FROM tickets_ticket"
)
DROP_STATISTICS = "DROP STATISTICS IF EXISTS ticket_status_assignee"


def create_statistics(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE_STATISTICS)
    # Filled now where there are tickets; an empty table (a new install) is left unanalysed,
    # as every other table is after migrating.
    if apps.get_model("tickets", "Ticket").objects.exists():
        schema_editor.execute("ANALYZE tickets_ticket")


def drop_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_STATISTICS)


class Migration(migrations.Migration):
    atomic = False
    dependencies = [
        ("tickets", "0010_import_job_heartbeat"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexWithoutLocking(
            model_name="ticket",
            index=models.Index(
                fields=["assignee", "status", "-created_at", "-id"],
                name="ticket_assignee_created",
            ),
        ),
        AddIndexWithoutLocking(
            model_name="ticket",
            index=models.Index(
                models.Case(
                    models.When(priority="urgent", then=models.Value(0)),
                    models.When(priority="high", then=models.Value(1)),
                    models.When(priority="normal", then=models.Value(2)),
                    default=models.Value(3),
                    output_field=models.IntegerField(),
                ),
                models.OrderBy(models.F("updated_at"), descending=True),
                models.OrderBy(models.F("id"), descending=True),
                condition=models.Q(("status__in", ("new", "open", "pending", "on_hold"))),
                name="ticket_active_priority",
            ),
        ),
        migrations.RunPython(create_statistics, drop_statistics),
    ]
