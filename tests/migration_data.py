"""The rows data migrations create (role groups, default segmentations).

A transactional test ends by flushing every table, so the next one would start without them;
running the migrations' own functions again is idempotent and needs no database snapshot.
"""

import importlib

from django.apps import apps

DATA_MIGRATIONS = (
    ("helpdesk.migrations.0003_role_groups", "create_role_groups"),
    ("segments.migrations.0002_default_segmentations", "create_defaults"),
)


def restore_migration_data() -> None:
    for module, function in DATA_MIGRATIONS:
        getattr(importlib.import_module(module), function)(apps, None)
