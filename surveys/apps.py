from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"

    def ready(self) -> None:
        from django.core.checks import register

        from surveys import checks, imports, panels, services
        from tickets import extensions
        from tickets.services.imports import register_import_kind

        extensions.register_ticket_panel(panels.ticket_panel)
        extensions.register_customer_panel(panels.customer_panel)
        extensions.register_customer_export(services.export_customer_surveys)
        extensions.register_customer_eraser(services.erase_customer_surveys)
        register_import_kind("surveys", imports.SURVEYS_IMPORT)
        register(checks.check_survey_settings)
