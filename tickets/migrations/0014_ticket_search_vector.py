"""Full-text search reads a stored tsvector on PostgreSQL instead of computing one per ticket.

The inbox sorts its search results (latest update first), so for a common word PostgreSQL
walks the sort's index and tests each ticket in turn until a page is full. With the vector
computed from ``search_document`` on the fly, that was ~6,000 ``to_tsvector`` calls and
~150 ms for "refund" at a million tickets; reading a stored vector makes each test cheap.

The column is kept by triggers, not by a model field, so loading a ticket never reads it
(``tickets.selectors.search_tickets`` names it). The update trigger fires only when the text
changed. Existing rows are filled in batches of their own transactions and the GIN index is
built concurrently, so mail and agents keep writing while this runs at a million tickets.
SQLite has no tsvector and searches with LIKE: nothing to do there.
"""

from django.db import migrations

BATCH = 5_000
VECTOR = "to_tsvector('english'::regconfig, COALESCE(search_document, ''))"
KEEP_VECTOR = (
    "EXECUTE FUNCTION tsvector_update_trigger(search_vector, 'pg_catalog.english', search_document)"
)


def add_search_vector(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    run("ALTER TABLE tickets_ticket ADD COLUMN IF NOT EXISTS search_vector tsvector")
    run(
        "CREATE OR REPLACE TRIGGER ticket_search_vector_on_insert BEFORE INSERT "
        f"ON tickets_ticket FOR EACH ROW {KEEP_VECTOR}"
    )
    run(
        "CREATE OR REPLACE TRIGGER ticket_search_vector_on_update "
        "BEFORE UPDATE OF search_document ON tickets_ticket FOR EACH ROW "
        f"WHEN (OLD.search_document IS DISTINCT FROM NEW.search_document) {KEEP_VECTOR}"
    )
    if _fill_existing_rows(schema_editor):
        # Without statistics on the new column the planner guesses how many tickets a word
        # matches, and for a common word it picked a bitmap scan over the sort's index.
        run("ANALYZE tickets_ticket")
    run(
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS ticket_search_vector ON tickets_ticket "
        "USING gin (search_vector)"
    )
    run("DROP INDEX CONCURRENTLY IF EXISTS ticket_search_fts")


def _fill_existing_rows(schema_editor) -> bool:
    """Rows written from now on get their vector from the triggers; these are the older ones.
    False when there were none."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM tickets_ticket")
        (last,) = cursor.fetchone()
        if last is None:
            return False
        for start in range(0, last + 1, BATCH):
            cursor.execute(
                f"UPDATE tickets_ticket SET search_vector = {VECTOR} "
                "WHERE id >= %s AND id < %s AND search_vector IS NULL",
                [start, start + BATCH],
            )
    return True


def remove_search_vector(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    run(
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS ticket_search_fts ON tickets_ticket "
        f"USING gin ({VECTOR})"
    )
    run("DROP TRIGGER IF EXISTS ticket_search_vector_on_insert ON tickets_ticket")
    run("DROP TRIGGER IF EXISTS ticket_search_vector_on_update ON tickets_ticket")
    run("DROP INDEX CONCURRENTLY IF EXISTS ticket_search_vector")
    run("ALTER TABLE tickets_ticket DROP COLUMN IF EXISTS search_vector")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("tickets", "0013_import_job_retry_of")]

    operations = [migrations.RunPython(add_search_vector, remove_search_vector)]
