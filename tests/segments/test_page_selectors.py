from segments import page_selectors
from segments.models import Segment, Segmentation, SegmentRun
from tests.factories import CustomerFactory
from tests.segments.test_selectors import make_current_run


def test_segment_members_match_name_or_email_in_name_order(db):
    ann = CustomerFactory(name="Ann Example", email="ann@example.com")
    bob = CustomerFactory(name="Bob", email="bob@shop.example")
    cid = CustomerFactory(name="Cid", email="cid@example.com")
    _, segments = make_current_run("behaviour", [cid, bob, ann], segment_names=("All",))

    everyone = page_selectors.segment_members(segment=segments[0])
    by_email = page_selectors.segment_members(segment=segments[0], query="shop")
    by_name = page_selectors.segment_members(segment=segments[0], query="ann ex")

    assert [m.customer for m in everyone] == [ann, bob, cid]
    assert [m.customer for m in by_email] == [bob]
    assert [m.customer for m in by_name] == [ann]


def test_the_trend_reads_stored_sizes_of_succeeded_runs_oldest_first(
    db, django_assert_max_num_queries
):
    # given two succeeded runs and a later failed one
    segmentation = Segmentation.objects.get(slug="behaviour")
    segment = Segment.objects.create(segmentation=segmentation, slug="segment-1", name="One")
    key = str(segment.pk)
    for day, size in ((1, 10), (2, 12)):
        SegmentRun.objects.create(
            segmentation=segmentation,
            as_of=f"2025-06-0{day}",
            state=SegmentRun.State.SUCCEEDED,
            finished_at=f"2025-06-0{day}T03:00:00Z",
            quality={"sizes": {key: size}},
        )
    SegmentRun.objects.create(
        segmentation=segmentation, as_of="2025-06-03", state=SegmentRun.State.FAILED
    )

    # when
    with django_assert_max_num_queries(3):
        page = page_selectors.segment_page(segment_id=segment.pk)

    # then
    assert [str(point.run.as_of) for point in page.summary.trend] == ["2025-06-01", "2025-06-02"]
    assert page.summary.trend_sizes == [10, 12]
