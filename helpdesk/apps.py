from django.apps import AppConfig


class HelpdeskConfig(AppConfig):
    name = "helpdesk"
    verbose_name = "Help desk"

    def ready(self) -> None:
        from django.core.checks import Tags, register

        from helpdesk import checks, roles

        roles.watch_changes()
        register(checks.check_shared_cache, Tags.caches, deploy=True)
