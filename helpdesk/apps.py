from django.apps import AppConfig
from django.db.models.signals import post_migrate


class HelpdeskConfig(AppConfig):
    name = "helpdesk"
    verbose_name = "Help desk"

    def ready(self) -> None:
        from helpdesk.roles import ensure_role_groups

        # Groups must exist in every database, test databases included.
        post_migrate.connect(ensure_role_groups, sender=self)
