"""Migration operations shared by the apps."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations


class AddIndexWithoutLocking(AddIndexConcurrently):
    """``CREATE INDEX CONCURRENTLY`` on PostgreSQL, so mail and agents keep writing to a large
    table while the index builds; a plain ``AddIndex`` elsewhere (SQLite has no such option).
    The migration must set ``atomic = False``."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self._for(schema_editor).database_forwards(
            self, app_label, schema_editor, from_state, to_state
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        self._for(schema_editor).database_backwards(
            self, app_label, schema_editor, from_state, to_state
        )

    @staticmethod
    def _for(schema_editor) -> type[migrations.AddIndex]:
        if schema_editor.connection.vendor == "postgresql":
            return AddIndexConcurrently
        return migrations.AddIndex
