import re
from datetime import timedelta
from smtplib import SMTPException

import pytest
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import timezone

from segments import outreach
from segments.models import Campaign, CampaignRecipient
from segments.tasks import resume_stalled_campaigns, send_campaign_task
from tests.factories import CustomerFactory
from tests.segments.test_selectors import make_current_run
from tickets.models import Customer
from tickets.services.privacy import erased_email

LINK = re.compile(r"https?://\S+/segments/unsubscribe/(\S+)/")


@pytest.fixture
def audience(db):
    """A segment with three consenting members, one who unsubscribed, one who never agreed and
    one erased; plus a consenting customer in another segment."""
    consenting = [
        CustomerFactory(name=f"Ann{n} Example", email=f"ann{n}@example.com", marketing_consent=True)
        for n in range(3)
    ]
    unsubscribed = CustomerFactory(
        email="gone@example.com", marketing_consent=True, unsubscribed_at=timezone.now()
    )
    never_agreed = CustomerFactory(email="no@example.com", marketing_consent=False)
    erased = CustomerFactory(marketing_consent=True)
    erased.email = erased_email(erased.pk)
    erased.save(update_fields=["email"])
    other = CustomerFactory(email="other@example.com", marketing_consent=True)
    # make_current_run deals members round-robin: even positions to the first segment.
    members = [consenting[0], other, consenting[1], None, consenting[2], None]
    members += [unsubscribed, None, never_agreed, None, erased]
    fillers = iter(CustomerFactory.create_batch(members.count(None)))
    _, (vip, _rest) = make_current_run(
        "behaviour",
        [member or next(fillers) for member in members],
        segment_names=("VIP", "Others"),
    )
    return {"segment": vip, "consenting": consenting}


@pytest.fixture
def campaign(audience, lead):
    return outreach.create_campaign(
        segment=audience["segment"],
        subject="News for {{ segment.name }}",
        body="Hello {{ customer.first_name }},\n\nour {{ segment.name }} offer is here.",
        author=lead,
    )


def addresses(mailoutbox) -> list[str]:
    return sorted(address for message in mailoutbox for address in message.to)


def test_running_the_job_twice_sends_each_consenting_member_exactly_one_email(
    campaign, audience, mailoutbox, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        count = outreach.start_campaign(campaign=campaign)
    send_campaign_task.delay(campaign.pk)
    send_campaign_task.delay(campaign.pk)

    # then
    expected = sorted(customer.email for customer in audience["consenting"])
    assert count == 3
    assert addresses(mailoutbox) == expected
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.SENT
    assert campaign.finished_at is not None
    first = mailoutbox[0]
    assert first.subject == "News for VIP"
    assert first.body.startswith("Hello Ann0,\n\nour VIP offer is here.")
    assert LINK.search(first.body)
    assert first.extra_headers["List-Unsubscribe"].startswith("<http")


def test_sending_goes_in_batches_until_every_recipient_is_done(
    campaign, audience, mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(outreach, "BATCH_SIZE", 1)

    with django_capture_on_commit_callbacks(execute=True):
        outreach.start_campaign(campaign=campaign)

    assert len(mailoutbox) == 3
    assert outreach.progress(campaign) == outreach.Progress(total=3, sent=3, skipped=0, pending=0)


def test_an_smtp_failure_leaves_only_that_customer_for_the_retry(
    campaign, audience, mailoutbox, monkeypatch
):
    # given: the mail server refuses the second message once
    real_send = EmailMessage.send
    calls = []

    def flaky_send(message, *args, **kwargs):
        calls.append(message.to[0])
        if len(calls) == 2:
            raise SMTPException("421 try again later")
        return real_send(message, *args, **kwargs)

    monkeypatch.setattr(EmailMessage, "send", flaky_send)
    monkeypatch.setattr(outreach, "enqueue_on_commit", lambda *args: None)
    outreach.start_campaign(campaign=campaign)

    # when: the first attempt fails part way, and the job is retried twice
    with pytest.raises(SMTPException):
        outreach.send_campaign_batch(campaign_id=campaign.pk)
    assert outreach.progress(campaign).pending == 2
    assert not outreach.send_campaign_batch(campaign_id=campaign.pk)
    assert not outreach.send_campaign_batch(campaign_id=campaign.pk)

    # then
    assert addresses(mailoutbox) == sorted(c.email for c in audience["consenting"])
    assert CampaignRecipient.objects.filter(campaign=campaign, state="sent").count() == 3


def test_a_customer_who_unsubscribes_after_the_start_gets_nothing(
    campaign, audience, mailoutbox, monkeypatch
):
    monkeypatch.setattr(outreach, "enqueue_on_commit", lambda *args: None)
    outreach.start_campaign(campaign=campaign)
    leaving = audience["consenting"][1]
    outreach.unsubscribe(customer=leaving)

    outreach.send_campaign_batch(campaign_id=campaign.pk)

    assert leaving.email not in addresses(mailoutbox)
    assert len(mailoutbox) == 2
    assert outreach.progress(campaign).skipped == 1


def test_a_campaign_starts_only_once(campaign, monkeypatch):
    monkeypatch.setattr(outreach, "enqueue_on_commit", lambda *args: None)
    outreach.start_campaign(campaign=campaign)

    with pytest.raises(ValidationError, match="already been sent"):
        outreach.start_campaign(campaign=campaign)
    assert CampaignRecipient.objects.filter(campaign=campaign).count() == 3


def test_preview_counts_the_audience_and_renders_the_first_message(campaign, audience):
    preview = outreach.preview(campaign)

    assert preview.recipients == 3
    assert preview.sample.to == audience["consenting"][0].email
    assert preview.sample.body.startswith("Hello Ann0,")


@pytest.mark.parametrize(
    "body",
    ["Hi {{ customer.password }}", "Hi {{ ticket.number }}", "{{ settings.SECRET_KEY }}"],
)
def test_unknown_placeholders_are_refused(audience, lead, body):
    with pytest.raises(ValidationError, match="Unknown placeholder") as error:
        outreach.create_campaign(segment=audience["segment"], subject="Hi", body=body, author=lead)
    assert "body" in error.value.message_dict


def test_template_syntax_is_not_run(audience, lead):
    campaign = outreach.create_campaign(
        segment=audience["segment"],
        subject="Hi",
        body="{% load static %}{{ customer.email }} {% debug %}",
        author=lead,
    )

    sample = outreach.preview(campaign).sample

    assert sample.body.startswith(f"{{% load static %}}{sample.to} {{% debug %}}")


def test_the_test_email_goes_only_to_the_lead(campaign, lead, mailoutbox):
    outreach.send_test_email(campaign=campaign, to=lead)

    assert [m.to for m in mailoutbox] == [[lead.email]]
    assert mailoutbox[0].subject == "[Test] News for VIP"
    assert not CampaignRecipient.objects.exists()


def test_the_unsubscribe_link_asks_then_unsubscribes(client, campaign, audience, mailoutbox):
    customer = audience["consenting"][0]
    token = LINK.search(outreach.render_email(campaign=campaign, customer=customer).body)[1]
    url = reverse("segments:unsubscribe", args=[token])

    page = client.get(url)
    customer.refresh_from_db()
    assert page.status_code == 200 and customer.unsubscribed_at is None
    assert customer.email in page.content.decode()

    done = client.post(url)
    customer.refresh_from_db()
    assert done.status_code == 200 and customer.unsubscribed_at is not None
    assert outreach.preview(campaign).recipients == 2


def test_a_forged_unsubscribe_token_is_refused_clearly(client, audience):
    token = outreach.unsubscribe_token(audience["consenting"][0].pk)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")

    response = client.post(reverse("segments:unsubscribe", args=[forged]))

    assert response.status_code == 400
    assert "link does not work" in response.content.decode()
    assert Customer.objects.filter(unsubscribed_at__isnull=False).count() == 1  # the one before


# -- pages ------------------------------------------------------------------------------------


def test_a_lead_writes_previews_tests_and_sends_a_campaign(
    lead_client, lead, audience, mailoutbox, django_capture_on_commit_callbacks
):
    # when: the lead writes it
    response = lead_client.post(
        reverse("segments:campaign_new"),
        {
            "segment": audience["segment"].pk,
            "subject": "Spring offer",
            "body": "Dear {{ customer.name }}, spring is here.",
        },
    )
    campaign = Campaign.objects.get()
    assert response.status_code == 302

    # then: the page previews the count and one message
    page = lead_client.get(reverse("segments:campaign", args=[campaign.pk])).content.decode()
    assert "<strong>3</strong> customers" in page
    assert "Dear Ann0 Example, spring is here." in page

    # when: a test, then the real thing
    lead_client.post(reverse("segments:campaign_test", args=[campaign.pk]))
    with django_capture_on_commit_callbacks(execute=True):
        lead_client.post(reverse("segments:campaign_send", args=[campaign.pk]))

    # then
    assert mailoutbox[0].to == [lead.email]
    assert len(mailoutbox) == 4
    progress = lead_client.get(reverse("segments:campaign_progress", args=[campaign.pk]))
    assert "100%" in progress.content.decode()
    assert "hx-trigger" not in progress.content.decode()  # finished: the poll stops


def test_a_bad_placeholder_is_shown_on_the_form(lead_client, audience):
    response = lead_client.post(
        reverse("segments:campaign_new"),
        {"segment": audience["segment"].pk, "subject": "Hi", "body": "{{ customer.iban }}"},
    )

    assert response.status_code == 400
    assert "Unknown placeholder customer.iban" in response.content.decode()
    assert not Campaign.objects.exists()


def test_outreach_pages_are_for_leads(agent_client, campaign):
    for url in (
        reverse("segments:campaigns"),
        reverse("segments:campaign_new"),
        reverse("segments:campaign", args=[campaign.pk]),
    ):
        assert agent_client.get(url).status_code == 403
    assert (
        agent_client.post(reverse("segments:campaign_send", args=[campaign.pk])).status_code == 403
    )


def test_a_campaign_whose_job_was_lost_is_resumed_by_the_sweeper(
    campaign, audience, mailoutbox, monkeypatch
):
    # given: the start's job never ran (broker down), an hour ago
    monkeypatch.setattr(outreach, "enqueue_on_commit", lambda *args: None)
    outreach.start_campaign(campaign=campaign)
    Campaign.objects.filter(pk=campaign.pk).update(started_at=timezone.now() - timedelta(hours=1))

    # when
    resumed = resume_stalled_campaigns.delay().get()

    # then
    assert resumed == 1
    assert len(mailoutbox) == 3
    assert resume_stalled_campaigns.delay().get() == 0  # sent: nothing left to resume


def test_a_campaign_that_is_sending_is_left_to_its_job(campaign, monkeypatch):
    monkeypatch.setattr(outreach, "enqueue_on_commit", lambda *args: None)
    outreach.start_campaign(campaign=campaign)

    assert outreach.stalled_campaign_ids(now=timezone.now()) == []
