import io
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from sklearn.metrics import adjusted_rand_score

from helpdesk.models import AuditLog
from segments import services
from segments.models import Membership, Segment, SegmentProfileRevision, SegmentRun, Segmentation
from segments.selectors import badges_by_customer
from tests.factories import CustomerFactory, MailboxFactory, PurchaseFactory, TeamFactory, TicketFactory
from tests.segments.planted import GROUPS, planted_customers
from tickets.models import Customer, Ticket
from tickets.services.imports import import_csv

AS_OF = date(2025, 6, 30)


def import_planted(per_group: int = 40):
    data = planted_customers(per_group=per_group, as_of=AS_OF)
    for kind, payload in (
        ("customers", data.customers_csv),
        ("purchases", data.purchases_csv),
        ("tickets", data.tickets_csv),
    ):
        result = import_csv(kind=kind, source=io.BytesIO(payload))
        assert result.written, result.errors
    return data


def run_now(slug: str, capture, as_of: date = AS_OF) -> SegmentRun:
    segmentation = Segmentation.objects.get(slug=slug)
    with capture(execute=True):
        run = services.start_segment_run(segmentation=segmentation, as_of=as_of)
    run.refresh_from_db()
    return run


def current_labels(slug: str) -> dict[int, int]:
    segmentation = Segmentation.objects.get(slug=slug)
    return dict(
        Membership.objects.filter(run_id=segmentation.current_run_id).values_list(
            "customer_id", "segment_id"
        )
    )


def test_behaviour_segmentation_recovers_planted_groups(db, django_capture_on_commit_callbacks):
    # given customers from 5 known behaviour groups, imported through the CSV import
    data = import_planted()

    # when
    run = run_now("behaviour", django_capture_on_commit_callbacks)

    # then
    assert run.state == SegmentRun.State.SUCCEEDED, run.error
    assert run.progress == 100
    assert run.k == len(GROUPS)
    ids = dict(Customer.objects.values_list("external_id", "pk"))
    labels = current_labels("behaviour")
    truth = [data.group_of[external_id] for external_id in sorted(ids)]
    found = [labels[ids[external_id]] for external_id in sorted(ids)]
    assert adjusted_rand_score(truth, found) >= 0.9
    assert run.fidelity >= 0.9
    assert set(run.stage_seconds) >= {"features", "clustering", "explanation", "write-back"}
