from datetime import timedelta
from smtplib import SMTPServerDisconnected
from unittest import mock

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from surveys import services
from surveys.models import SurveyInvitation, SurveyResponse
from tests import factories
from tickets import services as ticket_services
from tickets.models import Ticket
from tickets.services.privacy import erased_email


def _solved(minutes_ago: float, **kwargs) -> Ticket:
    solved_at = timezone.now() - timedelta(minutes=minutes_ago)
    return factories.TicketFactory(
        status=kwargs.pop("status", Ticket.Status.SOLVED),
        solved_at=solved_at,
        created_at=solved_at - timedelta(hours=2),
        **kwargs,
    )


# --- CSAT invitations ------------------------------------------------------------------------


def test_solved_and_closed_tickets_past_the_delay_are_invited(db, settings):
    # given
    settings.SURVEY_DELAY_MINUTES = 30
    settings.SURVEY_CSAT_SCALE = "faces"
    solved = _solved(31)
    closed = _solved(120, status=Ticket.Status.CLOSED)
    too_recent = _solved(29)
    too_old = _solved(8 * 24 * 60)
    factories.TicketFactory(status=Ticket.Status.OPEN)

    # when
    offered = services.invite_solved_tickets()

    # then
    invited = SurveyInvitation.objects.all()
    assert offered == 2
    assert {inv.ticket_id for inv in invited} == {solved.pk, closed.pk}
    assert too_recent.pk not in {inv.ticket_id for inv in invited}
    assert too_old.pk not in {inv.ticket_id for inv in invited}
    assert {(inv.kind, inv.scale) for inv in invited} == {("csat", "faces")}
    assert {inv.customer_id for inv in invited} == {solved.customer_id, closed.customer_id}


def test_inviting_twice_creates_no_second_invitation(db):
    tickets = [_solved(90) for _ in range(3)]

    services.invite_solved_tickets()
    second_offer = services.invite_solved_tickets()

    assert second_offer == 0
    assert SurveyInvitation.objects.count() == len(tickets)


def test_the_database_refuses_a_second_csat_invitation_for_a_ticket(db):
    ticket = _solved(90)
    services.invite_solved_tickets()

    with pytest.raises(IntegrityError):
        SurveyInvitation.objects.create(
            kind="csat", scale="stars", ticket=ticket, customer=ticket.customer
        )


def test_invitation_creation_is_set_based(db, django_assert_max_num_queries):
    for _ in range(2):
        _solved(90)
    with CaptureQueriesContext(connection) as two_tickets:
        services.invite_solved_tickets()
    for _ in range(40):
        _solved(90)

    with django_assert_max_num_queries(len(two_tickets)):
        services.invite_solved_tickets()

    assert SurveyInvitation.objects.count() == 42


def test_erased_customers_are_not_invited(db):
    ticket = _solved(90)
    ticket.customer.email = erased_email(ticket.customer_id)
    ticket.customer.save(update_fields=["email"])

    assert services.invite_solved_tickets() == 0


def test_an_unknown_scale_setting_is_a_configuration_error(db, settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.SURVEY_CSAT_SCALE = "emoji"
    _solved(90)

    with pytest.raises(ImproperlyConfigured):
        services.invite_solved_tickets()


# --- sending ------------------------------------------------------------------------------------


def test_sending_emails_the_customer_a_signed_link_once(sent_invitation, solved_ticket):
    again = services.send_invitation(invitation_id=sent_invitation.pk)

    assert again is False
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["ann@example.com"]
    assert f"[#{solved_ticket.pk}]" in email.subject
    assert services.survey_link(sent_invitation).split("/s/")[0] in email.body
    assert "/surveys/s/" in email.body
    assert sent_invitation.sent_at is not None


def test_credit_goes_to_the_agent_and_team_at_send_time(db, solved_ticket, agent, team):
    # given: invited while assigned to agent, then re-assigned before the mail goes out
    services.invite_solved_tickets()
    other_agent = factories.AgentFactory()
    other_team = factories.TeamFactory()
    ticket_services.update_ticket(
        ticket=solved_ticket, actor=None, assignee=other_agent, team=other_team
    )
    invitation = SurveyInvitation.objects.get(ticket=solved_ticket)

    # when
    services.send_invitation(invitation_id=invitation.pk)
    ticket_services.update_ticket(ticket=solved_ticket, actor=None, assignee=agent, team=team)

    # then: the credit stays with who had the ticket when it was sent
    invitation.refresh_from_db()
    assert (invitation.agent, invitation.team) == (other_agent, other_team)


def test_an_smtp_failure_leaves_the_invitation_unsent_for_the_retry(db, solved_ticket):
    services.invite_solved_tickets()
    invitation = SurveyInvitation.objects.get()

    with (
        mock.patch(
            "django.core.mail.backends.locmem.EmailBackend.send_messages",
            side_effect=SMTPServerDisconnected("gone"),
        ),
        pytest.raises(SMTPServerDisconnected),
    ):
        services.send_invitation(invitation_id=invitation.pk)

    invitation.refresh_from_db()
    assert invitation.sent_at is None
    assert services.send_invitation(invitation_id=invitation.pk) is True
    assert len(mail.outbox) == 1


def test_an_erased_customer_is_not_emailed(db, solved_ticket):
    services.invite_solved_tickets()
    customer = solved_ticket.customer
    customer.email = erased_email(customer.pk)
    customer.save(update_fields=["email"])

    assert services.send_invitation(invitation_id=SurveyInvitation.objects.get().pk) is False
    assert mail.outbox == []


# --- answers --------------------------------------------------------------------------------------


def test_an_answer_is_recorded_once_and_changed_in_place(sent_invitation):
    # given
    first = services.record_survey_response(invitation_id=sent_invitation.pk, score=4)

    # when
    changed = services.record_survey_response(
        invitation_id=sent_invitation.pk, score=5, comment=" Great "
    )

    # then
    assert SurveyResponse.objects.count() == 1
    assert changed.pk == first.pk
    stored = SurveyResponse.objects.get()
    assert (stored.score, stored.comment) == (5, "Great")
    assert stored.changed_at is not None
    assert stored.answered_at == first.answered_at


def test_an_answer_cannot_change_after_the_window(sent_invitation, settings):
    settings.SURVEY_CHANGE_WINDOW_HOURS = 24
    answered = services.record_survey_response(invitation_id=sent_invitation.pk, score=4)
    later = answered.answered_at + timedelta(hours=24, seconds=1)

    with pytest.raises(services.SurveyClosed) as closed:
        services.record_survey_response(invitation_id=sent_invitation.pk, score=1, now=later)

    assert closed.value.response.pk == answered.pk
    assert SurveyResponse.objects.get().score == 4


def test_the_database_refuses_a_second_response(sent_invitation):
    services.record_survey_response(invitation_id=sent_invitation.pk, score=4)

    with pytest.raises(IntegrityError):
        SurveyResponse.objects.create(
            invitation=sent_invitation, score=2, answered_at=timezone.now()
        )


@pytest.mark.parametrize("score", [0, 6, -1, 11])
def test_a_score_off_the_scale_is_refused(sent_invitation, score):
    with pytest.raises(ValidationError) as error:
        services.record_survey_response(invitation_id=sent_invitation.pk, score=score)

    assert "score" in error.value.message_dict
    assert not SurveyResponse.objects.exists()


def test_a_bad_rating_needs_a_reason(sent_invitation):
    with pytest.raises(ValidationError) as error:
        services.record_survey_response(invitation_id=sent_invitation.pk, score=2, comment="  ")

    assert error.value.message_dict == {"comment": ["Please tell us what went wrong."]}
    assert services.record_survey_response(
        invitation_id=sent_invitation.pk, score=2, comment="Slow"
    )


def test_a_bad_rating_reopens_the_ticket_and_tells_the_lead_once(
    sent_invitation, solved_ticket, lead, settings, django_capture_on_commit_callbacks
):
    # given
    settings.SURVEY_BAD_RATING_ACTIONS = ["reopen", "notify_lead"]
    mail.outbox.clear()

    # when: a bad rating, then a change to another bad rating
    with django_capture_on_commit_callbacks(execute=True):
        services.record_survey_response(
            invitation_id=sent_invitation.pk, score=1, comment="Nobody listened"
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.record_survey_response(
            invitation_id=sent_invitation.pk, score=2, comment="Still bad"
        )

    # then
    solved_ticket.refresh_from_db()
    assert solved_ticket.status == Ticket.Status.OPEN
    assert [email.to for email in mail.outbox] == [[lead.email]]
    assert "Nobody listened" in mail.outbox[0].body
    assert f"[#{solved_ticket.pk}]" in mail.outbox[0].subject
    assert SurveyResponse.objects.get().bad_rating_handled_at is not None


def test_a_good_rating_or_no_configured_action_does_nothing(
    sent_invitation, solved_ticket, settings, django_capture_on_commit_callbacks
):
    settings.SURVEY_BAD_RATING_ACTIONS = []
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.record_survey_response(invitation_id=sent_invitation.pk, score=1, comment="x")

    assert callbacks == []
    solved_ticket.refresh_from_db()
    assert solved_ticket.status == Ticket.Status.SOLVED
    assert mail.outbox == []


# --- NPS ------------------------------------------------------------------------------------------


def test_nps_invites_recently_helped_customers_once_per_period(db, settings):
    # given
    settings.NPS_PERIOD_DAYS = 90
    helped = _solved(120).customer
    _solved(60 * 24, customer=helped)
    helped_long_ago = _solved(100 * 24 * 60).customer
    factories.CustomerFactory()  # never had a ticket

    # when
    first = services.invite_nps()
    second = services.invite_nps()

    # then
    invitations = SurveyInvitation.objects.filter(kind="nps")
    assert (first, second) == (1, 0)
    assert [(inv.customer_id, inv.scale, inv.ticket_id) for inv in invitations] == [
        (helped.pk, "zero_to_ten", None)
    ]
    assert helped_long_ago.pk not in {inv.customer_id for inv in invitations}


def test_nps_asks_again_only_after_the_period(db, settings):
    # given: asked now, and helped again later
    settings.NPS_PERIOD_DAYS = 90
    now = timezone.now()
    customer = _solved(120).customer
    services.invite_nps(now=now)
    Ticket.objects.filter(customer=customer).update(solved_at=now + timedelta(days=80))

    # when / then
    assert services.invite_nps(now=now + timedelta(days=89)) == 0
    assert services.invite_nps(now=now + timedelta(days=91)) == 1
    assert SurveyInvitation.objects.filter(customer=customer, kind="nps").count() == 2


def test_no_nps_invitations_when_nps_is_disabled(db, settings):
    settings.NPS_ENABLED = False
    _solved(120)

    assert services.invite_nps() == 0
    assert not SurveyInvitation.objects.exists()


def test_the_database_refuses_two_nps_invitations_in_one_period(db):
    customer = _solved(120).customer
    services.invite_nps()
    key = SurveyInvitation.objects.get().period_key

    with pytest.raises(IntegrityError):
        SurveyInvitation.objects.create(
            kind="nps", scale="zero_to_ten", customer=customer, period_key=key
        )


def test_an_nps_answer_needs_no_reason_even_when_low(db):
    customer = _solved(120).customer
    services.invite_nps()
    invitation = SurveyInvitation.objects.get(customer=customer)

    response = services.record_survey_response(invitation_id=invitation.pk, score=0)

    assert response.score == 0
