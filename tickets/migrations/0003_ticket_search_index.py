"""Full-text search index on PostgreSQL; SQLite falls back to a plain LIKE search.

The index expression matches what ``SearchVector("search_document", config="english")``
compiles to, so the planner can use it.
"""

from django.db import migrations

CREATE = """
CREATE INDEX IF NOT EXISTS ticket_search_fts ON tickets_ticket
USING gin (to_tsvector('english'::regconfig, COALESCE(search_document, '')))
"""
DROP = "DROP INDEX IF EXISTS ticket_search_fts"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0002_import_job")]

    operations = [migrations.RunPython(create_index, drop_index)]
