from datetime import timedelta
from smtplib import SMTPServerDisconnected
from unittest import mock

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.utils import timezone

from surveys import services, tasks
from surveys.models import SurveyInvitation


def test_the_periodic_task_invites_and_emails_each_solved_ticket_once(solved_ticket):
    first = tasks.invite_solved_tickets.delay().get()
    second = tasks.invite_solved_tickets.delay().get()

    assert first == {"invited": 1, "enqueued": 1, "bad_ratings": 0}
    assert second == {"invited": 0, "enqueued": 0, "bad_ratings": 0}
    assert [email.to for email in mail.outbox] == [[solved_ticket.customer.email]]
    assert SurveyInvitation.objects.get().sent_at is not None


def test_running_the_send_task_twice_sends_one_email(solved_ticket):
    tasks.invite_solved_tickets.delay()
    invitation = SurveyInvitation.objects.get()

    assert tasks.send_invitation_task.delay(invitation.pk).get() is False
    assert len(mail.outbox) == 1


def test_an_smtp_failure_schedules_a_retry_and_the_retry_sends(solved_ticket):
    # given
    services.invite_solved_tickets()
    invitation = SurveyInvitation.objects.get()

    # when
    with (
        mock.patch.object(
            mail.backends.locmem.EmailBackend,
            "send_messages",
            side_effect=SMTPServerDisconnected("connection lost"),
        ),
        pytest.raises(Retry),
    ):
        tasks.send_invitation_task.apply(args=[invitation.pk])
    invitation.refresh_from_db()
    unsent_after_failure = invitation.sent_at is None
    retried = tasks.send_invitation_task.apply(args=[invitation.pk])

    # then
    assert unsent_after_failure
    assert retried.get() is True
    assert len(mail.outbox) == 1


def test_the_nps_task_invites_and_emails(solved_ticket, settings):
    settings.NPS_PERIOD_DAYS = 90

    result = tasks.invite_nps.delay().get()

    assert result["invited"] == 1
    assert SurveyInvitation.objects.get(kind="nps").sent_at is not None
    assert any("recommend" in email.subject for email in mail.outbox)


def test_the_periodic_task_recovers_a_lost_bad_rating_follow_up(sent_invitation, settings):
    # given: a bad rating whose follow-up job never ran (on_commit callbacks not executed)
    settings.SURVEY_BAD_RATING_ACTIONS = ["reopen"]
    services.record_survey_response(invitation_id=sent_invitation.pk, score=1, comment="No")

    # when
    swept = tasks.invite_solved_tickets.delay().get()
    again = tasks.invite_solved_tickets.delay().get()

    # then
    sent_invitation.ticket.refresh_from_db()
    assert (swept["bad_ratings"], again["bad_ratings"]) == (1, 0)
    assert sent_invitation.ticket.status == "open"


def test_old_bad_ratings_are_not_followed_up(sent_invitation, settings):
    settings.SURVEY_BAD_RATING_ACTIONS = ["reopen"]
    services.record_survey_response(
        invitation_id=sent_invitation.pk,
        score=1,
        comment="No",
        now=timezone.now() - timedelta(days=2),
    )

    assert tasks.invite_solved_tickets.delay().get()["bad_ratings"] == 0
