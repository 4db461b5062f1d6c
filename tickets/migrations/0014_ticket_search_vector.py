"""Full-text search reads a stored tsvector on PostgreSQL instead of computing one per ticket.

The inbox sorts its search results (latest update first), so for a common word PostgreSQL
walks the sort's index and tests each ticket in turn until a page is full. With the vector
computed from ``search_document`` on the fly, that was ~6,000 ``to_tsvector`` calls and
~150 ms for "refund" at a million tickets; reading a stored vector makes each test cheap.

The column is kept by triggers, not by a model field, so loading a ticket never reads it
(``tickets.selectors.search_tickets`` names it). The update trigger fires only when the text
changed. Existing rows are filled in batches of their own transactions and the GIN index is
built concurrently, so mail and agents keep writing while this runs at a million tickets; the
brief locks to add the column and triggers give up after LOCK_TIMEOUT instead of queueing
writers behind a long transaction (run the migration again then: every step is idempotent).
SQLite has no tsvector and searches with LIKE: nothing to do there.
"""

from contextlib import contextmanager

from django.db import migrations

BATCH = 5_000
LOCK_TIMEOUT = "10s"
VECTOR = "to_tsvector('english'::regconfig, COALESCE(search_document, ''))"
KEEP_VECTOR = (
    "EXECUTE FUNCTION tsvector_update_trigger(search_vector, 'pg_catalog.english', search_document)"
)


def add_search_vector(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    with _lock_timeout(schema_editor):
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
        # VACUUM: the fill rewrote every row. ANALYZE: without statistics on the new column
        # the planner guessed how many tickets a word matches, and for a common word it chose
        # a bitmap scan over walking the sort's index.
        run("VACUUM (ANALYZE) tickets_ticket")
    _build_index(schema_editor, "ticket_search_vector", "gin (search_vector)")
    run("DROP INDEX CONCURRENTLY IF EXISTS ticket_search_fts")


@contextmanager
def _lock_timeout(schema_editor):
    """Give up rather than queue every writer behind DDL that waits for a long transaction (an
    import, say); the migration can simply be run again."""
    schema_editor.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
    try:
        yield
    finally:
        schema_editor.execute("RESET lock_timeout")


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


def _build_index(schema_editor, name: str, definition: str) -> None:
    """CREATE INDEX CONCURRENTLY, so writes go on. A build that failed or was cancelled leaves
    an invalid index that IF NOT EXISTS would take for done: drop it and build again, and
    raise rather than carry on (and drop the index it replaces) if it is still not valid."""
    if _index_valid(schema_editor, name) is False:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON tickets_ticket USING {definition}"
    )
    if not _index_valid(schema_editor, name):
        raise RuntimeError(f"index {name} did not build; run the migration again")


def _index_valid(schema_editor, name: str) -> bool | None:
    """Whether the index is valid; None when there is no such index."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [name])
        row = cursor.fetchone()
    return row[0] if row else None


def remove_search_vector(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    _build_index(schema_editor, "ticket_search_fts", f"gin ({VECTOR})")
    with _lock_timeout(schema_editor):
        run("DROP TRIGGER IF EXISTS ticket_search_vector_on_insert ON tickets_ticket")
        run("DROP TRIGGER IF EXISTS ticket_search_vector_on_update ON tickets_ticket")
    run("DROP INDEX CONCURRENTLY IF EXISTS ticket_search_vector")
    with _lock_timeout(schema_editor):
        run("ALTER TABLE tickets_ticket DROP COLUMN IF EXISTS search_vector")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("tickets", "0013_import_job_retry_of")]

    operations = [migrations.RunPython(add_search_vector, remove_search_vector)]
