from smtplib import SMTPServerDisconnected
from unittest import mock

import pytest
from celery.exceptions import Retry
from django.core import mail

from surveys import services, tasks
from surveys.models import SurveyInvitation


def test_the_periodic_task_invites_and_emails_each_solved_ticket_once(solved_ticket):
    first = tasks.invite_solved_tickets.delay().get()
    second = tasks.invite_solved_tickets.delay().get()

    assert first == {"invited": 1, "enqueued": 1}
    assert second == {"invited": 0, "enqueued": 0}
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
