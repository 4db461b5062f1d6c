from datetime import date

import pytest
from django.core.exceptions import ValidationError
from sklearn.metrics import adjusted_rand_score

from helpdesk.models import AuditLog
from segments import services
from segments.models import Membership, Segment, Segmentation, SegmentProfileRevision, SegmentRun
from segments.selectors import badges_by_customer
from tests.factories import (
    CustomerFactory,
    MailboxFactory,
    PurchaseFactory,
    TeamFactory,
    TicketFactory,
)
from tests.segments.planted import GROUPS
from tests.segments.runs import AS_OF, import_planted, run_now
from tickets.models import Customer, Ticket


def current_labels(slug: str) -> dict[int, int]:
    segmentation = Segmentation.objects.get(slug=slug)
    return dict(
        Membership.objects.filter(run_id=segmentation.current_run_id).values_list(
            "customer_id", "segment_id"
        )
    )


def test_behaviour_segmentation_recovers_planted_groups(db, django_capture_on_commit_callbacks):
    # given customers from 5 known behaviour groups, imported through the CSV import
    data = import_planted(per_group=40)

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


def customers_with_purchases(count: int, *, amounts=(10, 20, 50, 200, 900)):
    customers = []
    for n in range(count):
        customer = CustomerFactory()
        for order in range(1 + n % 4):
            PurchaseFactory(
                customer=customer,
                amount=str(amounts[(n + order) % len(amounts)]),
                ordered_at=f"2025-0{1 + n % 5}-1{order}T10:00:00Z",
            )
        customers.append(customer)
    return customers


def test_rfm_run_stores_scores_and_named_cells(db, django_capture_on_commit_callbacks):
    # given
    customers = customers_with_purchases(20)

    # when
    run = run_now("rfm", django_capture_on_commit_callbacks)

    # then
    assert run.state == SegmentRun.State.SUCCEEDED, run.error
    membership = Membership.objects.select_related("segment").get(run=run, customer=customers[3])
    assert membership.frequency == 4
    assert membership.recency_days == (AS_OF - date(2025, 4, 13)).days
    assert 1 <= membership.r_score <= 5
    assert membership.segment.proposed_name in {s.proposed_name for s in Segment.objects.all()}
    assert Membership.objects.filter(run=run).count() == 20


def test_failure_during_write_back_keeps_previous_run_and_badges(
    db, django_capture_on_commit_callbacks, monkeypatch
):
    # given a succeeded run whose badges customers carry
    import_planted(per_group=12)
    first = run_now("behaviour", django_capture_on_commit_callbacks)
    some_ids = list(Customer.objects.values_list("pk", flat=True)[:10])
    badges_before = badges_by_customer(some_ids)
    memberships_before = Membership.objects.count()

    # when the next run's writer fails after its first batch
    monkeypatch.setattr(services, "WRITE_BATCH", 10)
    monkeypatch.setattr(services, "COPY_BATCH", 10)
    real_write_batch = services.write_batch
    written = []

    def fail_on_second_batch(rows):
        if written:
            raise OSError("disk full")
        real_write_batch(rows)
        written.append(len(rows))

    monkeypatch.setattr(services, "write_batch", fail_on_second_batch)
    second = run_now("behaviour", django_capture_on_commit_callbacks, as_of=date(2025, 7, 1))

    # then
    assert written == [10]
    assert second.state == SegmentRun.State.FAILED
    assert "disk full" in second.error
    assert Segmentation.objects.get(slug="behaviour").current_run == first
    assert Membership.objects.count() == memberships_before
    assert not Membership.objects.filter(run=second).exists()
    assert badges_by_customer(some_ids) == badges_before


def test_running_a_finished_run_again_changes_nothing(db, django_capture_on_commit_callbacks):
    # given
    customers_with_purchases(12)
    run = run_now("rfm", django_capture_on_commit_callbacks)
    memberships = list(Membership.objects.filter(run=run).values_list("pk", "segment_id"))

    # when
    again = services.execute_segment_run(run_id=run.pk)

    # then
    assert again.finished_at == run.finished_at
    assert list(Membership.objects.filter(run=run).values_list("pk", "segment_id")) == memberships


def test_a_failed_run_is_not_retried_by_a_second_delivery(db):
    segmentation = Segmentation.objects.get(slug="behaviour")
    run = SegmentRun.objects.create(
        segmentation=segmentation, as_of=AS_OF, state=SegmentRun.State.FAILED, error="boom"
    )

    again = services.execute_segment_run(run_id=run.pk)

    assert (again.state, again.error) == (SegmentRun.State.FAILED, "boom")


def test_run_without_customers_fails_with_a_clear_error(db, django_capture_on_commit_callbacks):
    run = run_now("behaviour", django_capture_on_commit_callbacks)

    assert run.state == SegmentRun.State.FAILED
    assert run.error == "There are no customers to segment."
    assert Segmentation.objects.get(slug="behaviour").current_run is None


def test_second_run_keeps_segment_identities_and_reports_drift(
    db, django_capture_on_commit_callbacks
):
    # given two runs over the same data
    import_planted(per_group=20)
    first = run_now("behaviour", django_capture_on_commit_callbacks)
    second = run_now("behaviour", django_capture_on_commit_callbacks)

    # then the segments are matched, nobody moved
    assert set(first.explanation) == set(second.explanation)
    assert Segment.objects.count() == first.k
    assert second.drift["moved"] == 0
    assert second.drift["compared"] == 100
    assert second.quality["stability"]["adjusted_rand"] == 1.0


def test_customers_who_moved_have_open_tickets_rerouted(db, django_capture_on_commit_callbacks):
    # given an RFM run and a customer whose open ticket lost its team
    customers = customers_with_purchases(10)
    run_now("rfm", django_capture_on_commit_callbacks)
    mover = customers[0]
    stayer = customers[5]
    team = TeamFactory()
    mailbox = MailboxFactory(team=team)
    open_ticket = TicketFactory(customer=mover, mailbox=mailbox, status=Ticket.Status.OPEN)
    closed_ticket = TicketFactory(customer=mover, mailbox=mailbox, status=Ticket.Status.CLOSED)
    stayer_ticket = TicketFactory(customer=stayer, mailbox=mailbox, status=Ticket.Status.OPEN)
    before = current_labels("rfm")

    # when the mover buys a lot today and the segmentation runs again
    for _ in range(6):
        PurchaseFactory(customer=mover, amount="5000", ordered_at="2025-06-29T10:00:00Z")
    second = run_now("rfm", django_capture_on_commit_callbacks)

    # then
    after = current_labels("rfm")
    assert before[mover.pk] != after[mover.pk]
    moved = {pk for pk in after if before[pk] != after[pk]}
    assert second.drift["moved"] == len(moved)
    flows = {(f["from"], f["to"]): f["count"] for f in second.drift["flows"]}
    assert flows[(before[mover.pk], after[mover.pk])] >= 1
    open_ticket.refresh_from_db()
    assert open_ticket.team == team
    rerouted = AuditLog.objects.filter(action="ticket_rerouted", cause="segment changed")
    assert set(rerouted.values_list("target_id", flat=True)) == (
        {open_ticket.pk} | ({stayer_ticket.pk} if stayer.pk in moved else set())
    )
    assert closed_ticket.pk not in set(rerouted.values_list("target_id", flat=True))


def test_start_is_refused_while_a_run_is_in_progress(db):
    segmentation = Segmentation.objects.get(slug="rfm")
    services.start_segment_run(segmentation=segmentation)

    with pytest.raises(ValidationError, match="already queued or running"):
        services.start_segment_run(segmentation=segmentation)


def test_rule_based_segmentation_assigns_first_matching_segment(
    db, django_capture_on_commit_callbacks
):
    # given
    customers = customers_with_purchases(8)
    segmentation = Segmentation.objects.create(name="Value", slug="value", kind="rule")
    big = services.save_rule_segment(
        segmentation=segmentation,
        name="Many orders",
        criteria=[{"field": "frequency", "op": ">=", "value": 3}],
        match="all",
        editor=None,
    )
    some = services.save_rule_segment(
        segmentation=segmentation,
        name="Any order",
        criteria=[{"field": "frequency", "op": ">", "value": "0"}],
        match="all",
        editor=None,
    )

    # when
    run = run_now("value", django_capture_on_commit_callbacks)

    # then
    assert run.state == SegmentRun.State.SUCCEEDED, run.error
    labels = current_labels("value")
    expected = {c.pk: (big.pk if c.purchases.count() >= 3 else some.pk) for c in customers}
    assert labels == expected


def test_rule_segment_with_unknown_field_is_refused(db):
    CustomerFactory()
    segmentation = Segmentation.objects.create(name="Value", slug="value", kind="rule")

    with pytest.raises(ValidationError, match="unknown field 'shoe_size'"):
        services.save_rule_segment(
            segmentation=segmentation,
            name="Feet",
            criteria=[{"field": "shoe_size", "op": ">", "value": 3}],
            match="all",
            editor=None,
        )


def test_profile_edit_is_validated_and_keeps_history(db, lead):
    segmentation = Segmentation.objects.get(slug="behaviour")
    segment = Segment.objects.create(segmentation=segmentation, slug="segment-1", proposed_name="X")
    team = TeamFactory()

    services.update_segment_profile(
        segment=segment,
        editor=lead,
        data={"name": "Big spenders", "key_traits": "spend a lot\n\nemail", "team": team},
    )

    segment.refresh_from_db()
    assert (segment.label, segment.key_traits, segment.team) == (
        "Big spenders",
        ["spend a lot", "email"],
        team,
    )
    revision = SegmentProfileRevision.objects.get(segment=segment)
    assert revision.editor == lead
    assert revision.changes["name"] == ["", "Big spenders"]
    with pytest.raises(ValidationError, match="#2563eb"):
        services.update_segment_profile(segment=segment, editor=lead, data={"colour": "blue"})
    with pytest.raises(ValidationError):
        services.update_segment_profile(segment=segment, editor=lead, data={"slug": "x"})


def test_a_killed_run_leaves_badges_and_finishes_when_delivered_again(
    db, django_capture_on_commit_callbacks, monkeypatch
):
    # given a current run
    customers = customers_with_purchases(10)
    first = run_now("rfm", django_capture_on_commit_callbacks)
    badges_before = badges_by_customer([c.pk for c in customers])
    second = SegmentRun.objects.create(segmentation=first.segmentation, as_of=date(2025, 7, 1))

    # when the worker dies in the middle of writing the second run
    real_writer = services.write_memberships

    def die(**kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr(services, "write_memberships", die)
    with pytest.raises(SystemExit):
        services.execute_segment_run(run_id=second.pk)

    # then nothing of it is visible
    second.refresh_from_db()
    assert second.state == SegmentRun.State.RUNNING
    assert Segmentation.objects.get(slug="rfm").current_run == first
    assert not Membership.objects.filter(run=second).exists()
    assert badges_by_customer([c.pk for c in customers]) == badges_before

    # and the redelivered task completes it
    monkeypatch.setattr(services, "write_memberships", real_writer)
    done = services.execute_segment_run(run_id=second.pk)
    assert done.state == SegmentRun.State.SUCCEEDED
    assert Segmentation.objects.get(slug="rfm").current_run == second
    assert Membership.objects.filter(run=second).count() == 10
