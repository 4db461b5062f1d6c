"""A segment run started like the lead's button starts it is executed by a real Celery worker,
written by COPY into PostgreSQL and made current."""

import pytest

from segments.models import Membership, Segmentation, SegmentRun
from tests.factories import CustomerFactory, PurchaseFactory
from tests.integration.segment_runs import run_on_worker

pytestmark = pytest.mark.integration


def test_rfm_run_is_executed_by_the_worker(live_celery, postgres, wait_until):
    # given
    customers = []
    for n in range(30):
        customer = CustomerFactory()
        PurchaseFactory.create_batch(1 + n % 5, customer=customer, amount=str(10 * (1 + n % 7)))
        customers.append(customer)
    segmentation = Segmentation.objects.get(slug="rfm")

    # when
    run = run_on_worker(segmentation, wait_until, timeout=60)

    # then
    assert run.progress == 100
    segmentation.refresh_from_db()
    assert segmentation.current_run_id == run.pk
    assert Membership.objects.filter(run=run).count() == len(customers)
    assert "execute_segment_run_task[" in live_celery.log()

    # and a second delivery of the same task changes nothing
    from segments.tasks import execute_segment_run_task

    again = execute_segment_run_task.delay(run.pk)
    wait_until(
        lambda: f"execute_segment_run_task[{again.id}] succeeded" in live_celery.log(),
        timeout=30,
        what="the second delivery to finish",
    )
    again = SegmentRun.objects.get(pk=run.pk)
    assert again.finished_at == run.finished_at
    assert Membership.objects.filter(run=run).count() == len(customers)
