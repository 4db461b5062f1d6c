import time
from datetime import timedelta
from unittest import mock

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from surveys import services
from surveys.models import SurveyInvitation, SurveyResponse
from surveys.tokens import SALT, make_token
from tests import factories


def test_the_survey_page_needs_no_login_and_offers_the_scale(client, sent_invitation, answer_url):
    page = client.get(answer_url(sent_invitation))

    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="viewport"' in html
    assert html.count('type="radio" name="score"') == 5
    assert sent_invitation.ticket.subject in html


def test_the_faces_scale_offers_good_okay_bad(client, sent_invitation, answer_url):
    SurveyInvitation.objects.filter(pk=sent_invitation.pk).update(scale="faces")

    html = client.get(answer_url(sent_invitation)).content.decode()

    assert html.count('type="radio" name="score"') == 3
    for label in ("Good", "Okay", "Bad"):
        assert label in html


def test_answering_records_one_response_and_thanks(client, sent_invitation, answer_url):
    page = client.post(answer_url(sent_invitation), {"score": "4", "comment": "Quick help"})

    assert page.status_code == 200
    assert "Thank you" in page.content.decode()
    response = SurveyResponse.objects.get()
    assert (response.invitation_id, response.score, response.comment) == (
        sent_invitation.pk,
        4,
        "Quick help",
    )


def test_a_second_submit_changes_the_answer_without_a_second_row(
    client, sent_invitation, answer_url
):
    client.post(answer_url(sent_invitation), {"score": "4"})

    reopened = client.get(answer_url(sent_invitation))
    client.post(answer_url(sent_invitation), {"score": "5", "comment": "Even better"})

    assert "We have your answer" in reopened.content.decode()
    assert 'value="4" checked' in reopened.content.decode()
    assert list(SurveyResponse.objects.values_list("score", "comment")) == [(5, "Even better")]


def test_a_reused_link_after_the_window_shows_the_answer_and_refuses_a_change(
    client, sent_invitation, answer_url, settings
):
    # given: answered 25 hours ago with a 24-hour window
    settings.SURVEY_CHANGE_WINDOW_HOURS = 24
    services.record_survey_response(
        invitation_id=sent_invitation.pk,
        score=2,
        comment="Slow",
        now=timezone.now() - timedelta(hours=25),
    )

    # when
    shown = client.get(answer_url(sent_invitation))
    posted = client.post(answer_url(sent_invitation), {"score": "5"})

    # then
    for page in (shown, posted):
        assert page.status_code == 410
        assert "already answered" in page.content.decode()
        assert "★★" in page.content.decode()
    assert list(SurveyResponse.objects.values_list("score", flat=True)) == [2]


def test_a_bad_rating_without_a_reason_asks_for_one(client, sent_invitation, answer_url):
    page = client.post(answer_url(sent_invitation), {"score": "1", "comment": ""})

    assert page.status_code == 400
    assert "Please tell us what went wrong." in page.content.decode()
    assert not SurveyResponse.objects.exists()


@pytest.mark.parametrize("data", [{}, {"score": ""}, {"score": "9"}, {"score": "abc"}])
def test_an_invalid_score_is_a_clear_error(client, sent_invitation, answer_url, data):
    page = client.post(answer_url(sent_invitation), data)

    assert page.status_code == 400
    assert "survey-errors" in page.content.decode()
    assert not SurveyResponse.objects.exists()


def _refused(page, status: int, title: str) -> None:
    assert page.status_code == status
    assert title in page.content.decode()


@pytest.mark.parametrize("method", ["get", "post"])
def test_forged_and_tampered_links_are_refused(client, sent_invitation, method):
    real = make_token(invitation_id=sent_invitation.pk, nonce=sent_invitation.nonce)
    forged = signing.dumps({"i": sent_invitation.pk, "n": sent_invitation.nonce}, key="x" * 50)
    tampered = real[:-3] + ("aaa" if not real.endswith("aaa") else "bbb")
    wrong_nonce = make_token(invitation_id=sent_invitation.pk, nonce="guessed")
    missing = make_token(invitation_id=sent_invitation.pk + 999, nonce=sent_invitation.nonce)

    for token in (forged, tampered, wrong_nonce, missing, "not-a-token"):
        url = reverse("surveys:answer", args=[token])
        page = getattr(client, method)(url, {"score": "5"} if method == "post" else None)
        _refused(page, 400, "This survey link is not valid")
    assert not SurveyResponse.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_expired_link_is_refused(client, sent_invitation, settings, method):
    settings.SURVEY_LINK_MAX_AGE_DAYS = 14
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 15 * 86400):
        token = make_token(invitation_id=sent_invitation.pk, nonce=sent_invitation.nonce)

    page = getattr(client, method)(reverse("surveys:answer", args=[token]), {"score": "5"})

    _refused(page, 410, "This survey has expired")
    assert not SurveyResponse.objects.exists()


def test_a_token_signed_for_another_feature_is_refused(client, sent_invitation):
    token = signing.dumps({"i": sent_invitation.pk, "n": sent_invitation.nonce}, salt="other")

    page = client.get(reverse("surveys:answer", args=[token]))

    _refused(page, 400, "This survey link is not valid")
    assert SALT != "other"


def test_the_nps_page_offers_zero_to_ten(client, db, answer_url):
    invitation = SurveyInvitation.objects.create(
        kind="nps", scale="zero_to_ten", customer=factories.CustomerFactory()
    )

    page = client.get(answer_url(invitation))
    answered = client.post(answer_url(invitation), {"score": "10", "comment": "Love it"})

    assert page.content.decode().count('type="radio" name="score"') == 11
    assert "recommend" in page.content.decode()
    assert answered.status_code == 200
    assert SurveyResponse.objects.get().score == 10


# --- CSAT overview (leads) --------------------------------------------------------------------


def test_the_csat_overview_is_for_leads(client, agent, admin_user):
    url = reverse("surveys:csat_overview")

    assert client.get(url).status_code == 302
    client.force_login(agent)
    assert client.get(url).status_code == 403
    client.force_login(admin_user)
    assert client.get(url).status_code == 200


def test_the_csat_overview_shows_agents_and_teams(
    lead_client, sent_invitation, agent, team, django_assert_max_num_queries
):
    services.record_survey_response(invitation_id=sent_invitation.pk, score=5)
    today = timezone.localdate().isoformat()

    with django_assert_max_num_queries(8):
        page = lead_client.get(reverse("surveys:csat_overview"), {"start": today, "end": today})

    html = page.content.decode()
    assert page.status_code == 200
    assert agent.display_name in html
    assert team.name in html
    assert "100.0%" in html


@pytest.mark.parametrize(
    "params", [{"start": "2024-02-01", "end": "2024-01-01"}, {"start": "yesterday"}]
)
def test_a_bad_date_range_is_a_clear_error(lead_client, db, params):
    page = lead_client.get(reverse("surveys:csat_overview"), params)

    assert page.status_code == 400
    assert "errorlist" in page.content.decode()
