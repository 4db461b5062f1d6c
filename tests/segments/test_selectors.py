import pytest
from django.core.exceptions import ValidationError

from segments import selectors
from segments.models import Membership, Segment, Segmentation, SegmentRun
from tests.factories import CustomerFactory, PurchaseFactory
from tickets import extensions


def _warm():
    """Build the process's snapshot of the current runs, as every page after the first finds
    it."""
    selectors.CURRENT_SEGMENTS.get()


def test_a_run_made_current_changes_the_badges_and_choices_at_once(db):
    customer = CustomerFactory()
    _warm()
    assert selectors.segment_filter_choices() == []

    make_current_run("behaviour", [customer])

    assert selectors.segment_filter_choices()[0] == (
        "behaviour/segment-1",
        "Behaviour: Big spenders",
    )
    assert [b.label for b in extensions.badges_for_customers([customer.pk])[customer.pk]] == [
        "Big spenders"
    ]


def make_current_run(slug: str, customers, *, segment_names=("Big spenders", "Quiet")):
    segmentation = Segmentation.objects.get(slug=slug)
    run = SegmentRun.objects.create(
        segmentation=segmentation, as_of="2025-06-30", state=SegmentRun.State.SUCCEEDED
    )
    segments = [
        Segment.objects.create(
            segmentation=segmentation,
            slug=f"segment-{n}",
            proposed_name=name,
            proposed_traits=[f"trait of {name}"],
            notes=f"notes for {name}",
        )
        for n, name in enumerate(segment_names, start=1)
    ]
    Membership.objects.bulk_create(
        Membership(run=run, segment=segments[n % len(segments)], customer=customer)
        for n, customer in enumerate(customers)
    )
    run.explanation = {str(s.pk): {} for s in segments}
    run.save(update_fields=["explanation"])
    segmentation.current_run = run
    segmentation.save(update_fields=["current_run"])
    return run, segments


def test_badges_for_a_page_of_customers_in_one_query(db, django_assert_num_queries):
    customers = CustomerFactory.create_batch(6)
    make_current_run("behaviour", customers)
    make_current_run("rfm", customers[:3], segment_names=("Champions",))
    ids = [c.pk for c in customers]
    _warm()

    with django_assert_num_queries(1):
        badges = extensions.badges_for_customers(ids)

    assert [b.group_slug for b in badges[ids[0]]] == ["behaviour", "rfm"]
    first = badges[ids[0]][0]
    assert (first.label, first.slug, first.traits, first.notes) == (
        "Big spenders",
        "segment-1",
        ("trait of Big spenders",),
        "notes for Big spenders",
    )
    assert [b.label for b in badges[ids[1]]] == ["Quiet", "Champions"]
    assert [b.group_slug for b in badges[ids[5]]] == ["behaviour"]


def test_only_the_current_run_gives_badges(db):
    customer = CustomerFactory()
    make_current_run("behaviour", [customer], segment_names=("Old",))
    segmentation = Segmentation.objects.get(slug="behaviour")
    new_run = SegmentRun.objects.create(segmentation=segmentation, as_of="2025-07-01")
    new_segment = Segment.objects.create(segmentation=segmentation, slug="new", name="New")
    Membership.objects.create(run=new_run, segment=new_segment, customer=customer)

    badges = selectors.badges_by_customer([customer.pk])

    assert [b.label for b in badges[customer.pk]] == ["Old"]


def test_segment_filter_choices_and_customers(db, django_assert_max_num_queries):
    customers = CustomerFactory.create_batch(4)
    make_current_run("behaviour", customers)
    segment_filter = next(f for f in extensions.customer_filters() if f.param == "segment")
    _warm()

    with django_assert_max_num_queries(0):
        choices = segment_filter.choices()

    assert choices == [
        ("behaviour/segment-1", "Behaviour: Big spenders"),
        ("behaviour/segment-2", "Behaviour: Quiet"),
    ]
    with django_assert_max_num_queries(1):
        ids = set(segment_filter.customer_ids("behaviour/segment-2"))
    assert ids == {customers[1].pk, customers[3].pk}
    assert not segment_filter.customer_ids("behaviour/nope").exists()
    assert not segment_filter.customer_ids("garbage").exists()


def test_customer_panel_shows_traits_and_notes(agent, django_assert_max_num_queries):
    # The ticket page shows customer panels too, so one provider serves both sidebars.
    customer = CustomerFactory()
    make_current_run("behaviour", [customer])
    assert selectors.customer_segments_panel in extensions._customer_panel_providers
    _warm()

    with django_assert_max_num_queries(1):
        panel = selectors.customer_segments_panel(customer, agent)

    badge = panel.context["badges"][0]
    assert badge.notes == "notes for Big spenders"
    assert badge.traits == ("trait of Big spenders",)


def test_no_panel_without_segments(agent):
    customer = CustomerFactory()

    assert selectors.customer_segments_panel(customer, agent) is None


def test_lead_key_traits_replace_the_proposed_ones(db):
    customer = CustomerFactory()
    _, segments = make_current_run("behaviour", [customer])
    segments[0].key_traits = ["orders every week"]
    segments[0].save(update_fields=["key_traits"])

    badge = selectors.badges_by_customer([customer.pk])[customer.pk][0]

    assert badge.traits == ("orders every week",)


def test_preview_counts_matching_customers(db):
    for n in range(5):
        customer = CustomerFactory(plan="pro" if n < 2 else "basic")
        PurchaseFactory.create_batch(n, customer=customer)
    selectors._preview.__dict__.clear()

    count = selectors.preview_rule_segment(
        criteria=[
            {"field": "plan", "op": "=", "value": "basic"},
            {"field": "frequency", "op": ">=", "value": 3},
        ],
        match="all",
    )

    assert count == 2
    with pytest.raises(ValidationError):
        selectors.preview_rule_segment(
            criteria=[{"field": "x", "op": "=", "value": 1}], match="all"
        )
