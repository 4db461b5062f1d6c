from django.contrib.admin.sites import site
from django.urls import reverse

from tests.factories import MailboxFactory
from tests.tickets.emails import raw_email
from tickets import services
from tickets.models import InboundEmail, Mailbox, Ticket

URL = reverse("tickets:failed_emails")


def ingest_samples(mailbox, count: int) -> None:
    for n in range(count):
        services.ingest_email(mailbox=mailbox, raw=raw_email(sender=None, message_id=f"<f{n}@x>"))
        services.ingest_email(
            mailbox=mailbox,
            raw=raw_email(message_id=f"<i{n}@x>", headers={"Precedence": "bulk"}),
        )
    services.ingest_email(mailbox=mailbox, raw=raw_email(message_id="<ok@x>"))


def test_admins_see_failed_and_ignored_mail_with_a_constant_number_of_queries(
    admin_client, django_assert_max_num_queries
):
    # given
    ingest_samples(MailboxFactory(), 10)

    # when
    with django_assert_max_num_queries(8):
        response = admin_client.get(URL)

    # then
    assert response.status_code == 200
    rows = response.context["page"].object_list
    assert len(rows) == 20
    assert {row.state for row in rows} == {InboundEmail.State.FAILED, InboundEmail.State.IGNORED}
    assert b"missing or invalid From address" in response.content
    assert b"Precedence: bulk" in response.content


def test_the_list_filters_by_state(admin_client):
    ingest_samples(MailboxFactory(), 2)

    response = admin_client.get(URL, {"state": "failed"})

    assert {row.state for row in response.context["page"].object_list} == {"failed"}


def test_agents_and_leads_may_not_see_the_list(agent_client, lead):
    assert agent_client.get(URL).status_code == 403
    agent_client.force_login(lead)
    assert agent_client.get(URL).status_code == 403


def test_an_admin_reprocesses_a_failed_message(admin_client):
    # given: a message that failed under an earlier parser
    mailbox = MailboxFactory()
    result = services.ingest_email(mailbox=mailbox, raw=raw_email())
    Ticket.objects.all().delete()
    InboundEmail.objects.update(state=InboundEmail.State.FAILED, error="old bug")

    # when
    response = admin_client.post(reverse("tickets:reprocess_email", args=[result.inbound.pk]))

    # then
    assert response.status_code == 302
    assert InboundEmail.objects.get().state == InboundEmail.State.PROCESSED
    assert Ticket.objects.count() == 1


def test_reprocessing_a_processed_message_is_refused_with_a_message(admin_client):
    result = services.ingest_email(mailbox=MailboxFactory(), raw=raw_email())

    response = admin_client.post(
        reverse("tickets:reprocess_email", args=[result.inbound.pk]), follow=True
    )

    assert b"already part of a ticket" in response.content
    assert Ticket.objects.count() == 1


def test_mailboxes_and_inbound_email_are_in_the_django_admin():
    assert site.is_registered(Mailbox)
    assert site.is_registered(InboundEmail)
