"""Bulk writes on PostgreSQL: a DataFrame streamed into a table with COPY."""

import io
from collections.abc import Sequence

import pandas as pd
from django.db import connection


def copy_frame(
    cursor, table: str, frame: pd.DataFrame, *, force_not_null: Sequence[str] = ()
) -> None:
    """COPY the frame's rows as CSV into ``table`` (an SQL name, quoted as needed); the frame's
    columns name the table's. An empty cell is NULL except in the ``force_not_null`` columns,
    where it is the empty string. ``cursor`` is the psycopg2 cursor (Django's ``cursor.cursor``).
    """
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, na_rep="")
    buffer.seek(0)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(name) for name in frame.columns)
    options = (
        f", FORCE_NOT_NULL ({', '.join(map(quote, force_not_null))})" if force_not_null else ""
    )
    cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv{options})", buffer)
