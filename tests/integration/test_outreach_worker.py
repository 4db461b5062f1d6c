"""A campaign is sent by real Celery workers on PostgreSQL: two workers take duplicate deliveries
of the job at the same time, and still every consenting member gets exactly one email."""

import re
from collections import Counter

import pytest
from django.utils import timezone

from segments import outreach
from segments.models import Campaign, Segmentation
from segments.tasks import send_campaign_task
from tests.factories import CustomerFactory, LeadFactory
from tests.segments.test_selectors import make_current_run

pytestmark = pytest.mark.integration

RECIPIENT = re.compile(r"^To: (\S+)$", re.MULTILINE)


def test_duplicate_jobs_on_two_workers_send_each_customer_one_email(
    live_celery, postgres, spawn_celery_worker, wait_until
):
    # given: 40 consenting members, 5 unsubscribed and 5 without consent in one segment
    consenting = [
        CustomerFactory(email=f"member{n}@example.com", marketing_consent=True) for n in range(40)
    ]
    others = CustomerFactory.create_batch(
        5, marketing_consent=True, unsubscribed_at=timezone.now()
    ) + CustomerFactory.create_batch(5, marketing_consent=False)
    Segmentation.objects.create(name="Outreach", slug="outreach-it", kind="rule")
    _, (segment,) = make_current_run("outreach-it", consenting + others, segment_names=("All",))
    campaign = outreach.create_campaign(
        segment=segment,
        subject="Hello {{ customer.first_name }}",
        body="News for {{ segment.name }}.",
        author=LeadFactory(),
    )

    with spawn_celery_worker() as second_worker:
        # when: the campaign starts and the job is delivered three more times
        outreach.start_campaign(campaign=campaign)
        for _ in range(3):
            send_campaign_task.delay(campaign.pk)

        # then
        wait_until(
            lambda: Campaign.objects.filter(pk=campaign.pk, state=Campaign.State.SENT).exists(),
            timeout=60,
            what="the campaign to be sent",
        )

        # The file backend may append several messages to one file: count the headers.
        def recipients() -> Counter:
            mail = live_celery.sent_mail() + second_worker.sent_mail()
            return Counter(address for text in mail for address in RECIPIENT.findall(text))

        sent_to = wait_until(
            lambda: (found := recipients()).total() >= 40 and found, timeout=30, what="40 emails"
        )

    assert sent_to == Counter(customer.email for customer in consenting)
    assert max(sent_to.values()) == 1
    assert outreach.progress(campaign) == outreach.Progress(total=40, sent=40, skipped=0, pending=0)
