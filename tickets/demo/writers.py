"""Bulk writers for generated rows: ``bulk_create`` anywhere, ``COPY`` on PostgreSQL."""

import io
import json
from collections.abc import Callable, Sequence
from typing import Protocol

from django.core.management.color import no_style
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class RowWriter(Protocol):
    def write(self, model: type[models.Model], columns: Sequence[str], rows: list[tuple]) -> None:
        """Insert ``rows``, tuples of values for ``columns`` (attribute names like ``team_id``)."""

    def finish(self, written: Sequence[type[models.Model]]) -> None:
        """Move id sequences past the explicitly written ids."""


class BulkCreateWriter:
    batch_size = 2_000

    def __init__(self, connection: BaseDatabaseWrapper):
        self.connection = connection

    def write(self, model, columns, rows) -> None:
        objects = [model(**dict(zip(columns, row, strict=True))) for row in rows]
        model.objects.using(self.connection.alias).bulk_create(objects, batch_size=self.batch_size)

    def finish(self, written) -> None:
        _reset_sequences(self.connection, written)


class CopyWriter:
    """COPY in text format; values are escaped per column type. Columns the rows leave out get
    their model default, as ``bulk_create`` would give them."""

    def __init__(self, connection: BaseDatabaseWrapper):
        self.connection = connection

    def write(self, model, columns, rows) -> None:
        given = [model._meta.get_field(column) for column in columns]
        left_out = [
            field
            for field in model._meta.concrete_fields
            if field not in given and not (field.primary_key and field.column not in columns)
        ]
        fields = given + left_out
        encoders = [_copy_encoder(field) for field in fields]
        buffer = io.StringIO()
        for row in rows:
            values = (*row, *(_default(field) for field in left_out))
            buffer.write("\t".join([encode(v) for encode, v in zip(encoders, values, strict=True)]))
            buffer.write("\n")
        buffer.seek(0)
        quote = self.connection.ops.quote_name
        target = f"{quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)})"
        with self.connection.cursor() as cursor:
            cursor.copy_expert(f"COPY {target} FROM STDIN", buffer)

    def finish(self, written) -> None:
        _reset_sequences(self.connection, written)


def writer_for(connection: BaseDatabaseWrapper) -> RowWriter:
    if connection.vendor == "postgresql":
        return CopyWriter(connection)
    return BulkCreateWriter(connection)


def _default(field: models.Field):
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return timezone.now()
    return field.get_default()


def _copy_encoder(field: models.Field) -> Callable[[object], str]:
    if isinstance(field, models.JSONField):
        return _copy_json
    if isinstance(field, models.CharField | models.TextField):
        return _copy_text
    return _copy_plain


def _copy_text(value) -> str:
    return r"\N" if value is None else value.translate(_COPY_ESCAPES)


def _copy_json(value) -> str:
    return json.dumps(value).translate(_COPY_ESCAPES)


def _copy_plain(value) -> str:
    return r"\N" if value is None else str(value)


def _reset_sequences(connection, written) -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), list(written))
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
