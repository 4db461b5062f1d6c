"""System checks: a mistyped survey setting fails at start-up, not on a customer's answer."""

from django.conf import settings
from django.core.checks import Error

from surveys.scales import CSAT_SCALES

BAD_RATING_ACTIONS = {"reopen", "notify_lead"}


def check_survey_settings(app_configs=None, **kwargs) -> list[Error]:
    errors = []
    if settings.SURVEY_CSAT_SCALE not in CSAT_SCALES:
        errors.append(
            Error(
                f"SURVEY_CSAT_SCALE is {settings.SURVEY_CSAT_SCALE!r}.",
                hint=f"Use one of {', '.join(CSAT_SCALES)}.",
                id="surveys.E001",
            )
        )
    unknown = set(settings.SURVEY_BAD_RATING_ACTIONS) - BAD_RATING_ACTIONS
    if unknown:
        errors.append(
            Error(
                f"SURVEY_BAD_RATING_ACTIONS has unknown actions {sorted(unknown)}.",
                hint=f"Use any of {', '.join(sorted(BAD_RATING_ACTIONS))}.",
                id="surveys.E002",
            )
        )
    return errors
