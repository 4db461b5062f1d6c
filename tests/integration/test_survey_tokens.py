"""Many submits of one survey link at once, against real PostgreSQL, leave one response."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone

from surveys import services
from surveys.models import SurveyInvitation, SurveyResponse
from tests import factories
from tickets.models import Ticket

SUBMITS = 50

pytestmark = pytest.mark.integration


@pytest.fixture
def invitation(postgres, transactional_db) -> SurveyInvitation:
    solved_at = timezone.now() - timedelta(hours=1)
    ticket = factories.TicketFactory(
        status=Ticket.Status.SOLVED, solved_at=solved_at, created_at=solved_at
    )
    services.invite_solved_tickets()
    return SurveyInvitation.objects.get(ticket=ticket)


def _in_threads(count: int, work) -> list:
    """Run ``work(i)`` in ``count`` threads released together; each uses its own connection."""
    start = threading.Barrier(count)

    def run(i):
        try:
            start.wait()
            return work(i)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_fifty_concurrent_submits_of_one_token_leave_exactly_one_response(invitation):
    # given
    path = urlsplit(services.survey_link(invitation)).path

    # when
    statuses = _in_threads(
        SUBMITS,
        lambda i: Client().post(path, {"score": str(i % 5 + 1), "comment": f"try {i}"}).status_code,
    )

    # then: every submit was answered (the first records, the rest change it in place)
    assert set(statuses) == {200}
    assert SurveyResponse.objects.filter(invitation=invitation).count() == 1
    response = SurveyResponse.objects.get()
    assert (response.score, response.comment) in {(i % 5 + 1, f"try {i}") for i in range(SUBMITS)}


def test_concurrent_sends_of_one_invitation_send_one_email(invitation):
    sent = _in_threads(8, lambda i: services.send_invitation(invitation_id=invitation.pk))

    assert sorted(sent) == [False] * 7 + [True]
    assert len(mail.outbox) == 1
