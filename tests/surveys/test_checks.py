from surveys.checks import check_survey_settings


def test_the_default_settings_pass():
    assert check_survey_settings() == []


def test_an_unknown_scale_or_bad_rating_action_is_reported(settings):
    settings.SURVEY_CSAT_SCALE = "emoji"
    settings.SURVEY_BAD_RATING_ACTIONS = ["reopen", "page_the_ceo"]

    assert [error.id for error in check_survey_settings()] == ["surveys.E001", "surveys.E002"]
