"""Indexes on the large tables are built without locking out writes on PostgreSQL."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

# sqlmigrate opens no transaction for a non-atomic migration; the test must not hold one either.
pytestmark = pytest.mark.django_db(transaction=True)


def _sql_of(app: str, migration: str) -> str:
    output = StringIO()
    call_command("sqlmigrate", app, migration, stdout=output)
    return output.getvalue()


def test_the_ticket_indexes_build_concurrently_on_postgresql_and_plainly_elsewhere():
    sql = _sql_of("tickets", "0012")

    if connection.vendor == "postgresql":
        assert 'CREATE INDEX CONCURRENTLY "ticket_unrouted"' in sql
    else:
        assert 'CREATE INDEX "ticket_unrouted"' in sql
    assert "BEGIN" not in sql
