"""The same message delivered 50 times at once (each delivery with its own database connection)."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from tests.factories import MailboxFactory
from tests.tickets.emails import raw_email
from tickets import services
from tickets.models import InboundEmail, Message, Ticket

pytestmark = pytest.mark.integration

DELIVERIES = 50


def deliver_concurrently(mailbox, raw: bytes, times: int) -> Counter:
    start = threading.Barrier(times)

    def deliver(_):
        try:
            start.wait()
            return services.ingest_email(mailbox=mailbox, raw=raw).outcome.value
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=times) as pool:
        return Counter(pool.map(deliver, range(times)))


@pytest.mark.parametrize("message_id", ["<storm@mail.example.com>", None], ids=["header", "hash"])
def test_fifty_concurrent_deliveries_make_one_ticket_and_one_message(
    postgres, transactional_db, message_id
):
    mailbox = MailboxFactory()

    outcomes = deliver_concurrently(mailbox, raw_email(message_id=message_id), DELIVERIES)

    assert outcomes == {"created": 1, "duplicate": DELIVERIES - 1}
    assert InboundEmail.objects.count() == 1
    assert Ticket.objects.count() == 1
    assert Message.objects.count() == 1
