from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.factories import MailboxFactory
from tests.tickets.emails import raw_email
from tickets.models import Ticket


@pytest.fixture
def mailbox(db):
    return MailboxFactory(slug="support")


def run(*args) -> list[str]:
    out = StringIO()
    call_command("ingest_email", *args, stdout=out)
    return out.getvalue().splitlines()


def test_each_file_gets_a_line_with_its_ticket_and_outcome(mailbox, tmp_path):
    # given
    first = tmp_path / "first.eml"
    first.write_bytes(raw_email(message_id="<a@x.example>"))
    answer = tmp_path / "answer.eml"
    answer.write_bytes(raw_email(message_id="<b@x.example>", in_reply_to="<a@x.example>"))
    bounce = tmp_path / "bounce.eml"
    bounce.write_bytes(raw_email(sender="MAILER-DAEMON@mx.example.com", message_id="<c@x>"))
    junk = tmp_path / "junk.eml"
    junk.write_bytes(b"\x00\xff not a message")

    # when
    lines = run("--mailbox", "support", str(first), str(answer), str(first), str(bounce), str(junk))

    # then
    number = Ticket.objects.get().number
    assert lines == [
        f"{first}\t#{number}\tcreated",
        f"{answer}\t#{number}\tthreaded",
        f"{first}\t#{number}\tduplicate",
        f"{bounce}\t-\tignored",
        f"{junk}\t-\trejected",
    ]


def test_an_unknown_mailbox_is_an_error(db, tmp_path):
    with pytest.raises(CommandError, match="No mailbox"):
        run("--mailbox", "nope", str(tmp_path / "x.eml"))


def test_an_unreadable_file_is_reported_and_the_others_still_ingested(mailbox, tmp_path):
    good = tmp_path / "good.eml"
    good.write_bytes(raw_email())

    with pytest.raises(CommandError, match="1 file"):
        run("--mailbox", "support", str(tmp_path / "missing.eml"), str(good))

    assert Ticket.objects.count() == 1
