"""Segment pages: who may see and change what, what each page shows, bad input, query counts."""

import csv
import io
from datetime import date

import pytest
from django.urls import reverse

from segments import selectors, services
from segments.models import Membership, Segment, Segmentation, SegmentProfileRevision, SegmentRun
from tests.factories import (
    CustomerFactory,
    OrganisationFactory,
    PurchaseFactory,
    TeamFactory,
    TicketFactory,
)
from tests.segments.runs import AS_OF, import_planted, succeeded_run
from tests.tickets.views_support import warm


@pytest.fixture(autouse=True)
def fresh_preview_frame():
    """The live preview keeps the feature frame per thread; each test has its own data."""
    selectors._preview.__dict__.clear()


def current_run_with_members(count: int, *, slug: str = "behaviour") -> tuple[SegmentRun, Segment]:
    """A succeeded current run whose one segment holds ``count`` new customers."""
    segmentation = Segmentation.objects.get(slug=slug)
    segment = Segment.objects.create(
        segmentation=segmentation, slug="big-spenders", name="Big spenders", colour="#16a34a"
    )
    run = SegmentRun.objects.create(
        segmentation=segmentation,
        as_of=AS_OF,
        state=SegmentRun.State.SUCCEEDED,
        progress=100,
        customer_count=count,
        quality={"sizes": {str(segment.pk): count}, "shares": {str(segment.pk): 1.0}},
        explanation={str(segment.pk): {"rules": [], "traits": ["high monetary: 900 vs 50"]}},
    )
    organisation = OrganisationFactory()
    customers = CustomerFactory.create_batch(count, organisation=organisation)
    Membership.objects.bulk_create(
        Membership(run=run, segment=segment, customer=customer) for customer in customers
    )
    segmentation.current_run = run
    segmentation.save(update_fields=["current_run"])
    return run, segment


def segment_url(name: str, segment: Segment) -> str:
    return reverse(f"segments:{name}", args=[segment.pk])


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


# Permissions


@pytest.mark.parametrize(
    ("method", "name", "kind"),
    [
        ("post", "start_run", "slug"),
        ("get", "segment_edit", "segment"),
        ("post", "segment_edit", "segment"),
        ("get", "rule_segment_new", "rule-slug"),
        ("get", "rule_segment_edit", "rule-segment"),
        ("post", "rule_preview", None),
    ],
)
def test_agents_may_not_run_or_edit(agent_client, method, name, kind):
    rules = Segmentation.objects.create(name="Rules", slug="rules", kind=Segmentation.Kind.RULE)
    rule_segment = Segment.objects.create(segmentation=rules, slug="vip", name="VIP")
    plain = Segment.objects.create(
        segmentation=Segmentation.objects.get(slug="behaviour"), slug="s1"
    )
    args = {
        "slug": ["behaviour"],
        "rule-slug": ["rules"],
        "segment": [plain.pk],
        "rule-segment": [rule_segment.pk],
        None: [],
    }[kind]

    response = getattr(agent_client, method)(reverse(f"segments:{name}", args=args))

    assert response.status_code == 403
    assert not SegmentRun.objects.exists()
    assert not SegmentProfileRevision.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("segments:segmentations"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_main_navigation_links_to_segments(agent_client):
    response = agent_client.get(reverse("tickets:inbox"))

    assert 'data-testid="nav-segments"' in response.content.decode()


# Segmentations and runs


def test_segmentations_list_current_run_size_and_last_state(
    agent_client, django_capture_on_commit_callbacks
):
    import_planted(per_group=8)
    run = succeeded_run("behaviour", django_capture_on_commit_callbacks)

    response = agent_client.get(reverse("segments:segmentations"))

    assert response.status_code == 200
    rows = {row.segmentation.slug: row for row in response.context["rows"]}
    assert set(rows) == {"behaviour", "rfm"}
    assert rows["behaviour"].size == run.customer_count == 40
    assert rows["behaviour"].last_run == run
    assert rows["rfm"].last_run is None and rows["rfm"].size == 0
    assert 'data-testid="run-now"' not in response.content.decode()


def test_leads_see_run_now(lead_client):
    response = lead_client.get(reverse("segments:segmentations"))

    assert response.content.decode().count('data-testid="run-now"') == 2


def test_a_lead_starts_a_run_and_lands_on_its_page(
    lead_client, lead, django_capture_on_commit_callbacks
):
    import_planted(per_group=8)

    with django_capture_on_commit_callbacks(execute=True):
        response = lead_client.post(reverse("segments:start_run", args=["behaviour"]))

    run = SegmentRun.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("segments:run", args=[run.pk])
    assert run.requested_by == lead
    assert run.state == SegmentRun.State.SUCCEEDED
    assert Segmentation.objects.get(slug="behaviour").current_run == run


def test_a_second_start_while_one_is_queued_is_refused_with_a_message(lead_client):
    first = services.start_segment_run(
        segmentation=Segmentation.objects.get(slug="behaviour"), enqueue=False
    )

    response = lead_client.post(reverse("segments:start_run", args=["behaviour"]), follow=True)

    assert list(SegmentRun.objects.all()) == [first]
    assert "already queued or running" in response.content.decode()


def test_starting_an_unknown_segmentation_is_404(lead_client):
    assert lead_client.post(reverse("segments:start_run", args=["nope"])).status_code == 404


def test_run_now_only_accepts_post(lead_client):
    assert lead_client.get(reverse("segments:start_run", args=["behaviour"])).status_code == 405


def test_progress_partial_polls_while_the_run_is_in_progress(agent_client):
    run = services.start_segment_run(
        segmentation=Segmentation.objects.get(slug="behaviour"), enqueue=False
    )
    SegmentRun.objects.filter(pk=run.pk).update(
        state=SegmentRun.State.RUNNING, stage="clustering", progress=40
    )

    response = agent_client.get(reverse("segments:run_progress", args=[run.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'hx-trigger="every 1s"' in html
    assert reverse("segments:run_progress", args=[run.pk]) in html
    assert "Stage: clustering" in html
    assert 'data-testid="run-percent">40%<' in html


def test_progress_partial_stops_polling_and_shows_the_results_when_finished(
    agent_client, django_capture_on_commit_callbacks
):
    import_planted(per_group=8)
    run = succeeded_run("behaviour", django_capture_on_commit_callbacks)

    response = agent_client.get(reverse("segments:run_progress", args=[run.pk]))

    html = response.content.decode()
    assert "hx-trigger" not in html
    assert 'data-testid="run-percent">100%<' in html
    assert 'data-testid="quality"' in html
    assert response.context["report"].sizes[0].size == max(run.quality["sizes"].values())


def test_a_failed_run_shows_its_error_and_stops_polling(
    agent_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run = services.start_segment_run(segmentation=Segmentation.objects.get(slug="behaviour"))

    response = agent_client.get(reverse("segments:run", args=[run.pk]))

    html = response.content.decode()
    assert 'data-state="failed"' in html
    assert "There are no customers to segment." in html
    assert "hx-trigger" not in html


def test_the_run_page_shows_quality_checks_and_drift(
    agent_client, django_capture_on_commit_callbacks
):
    # given two runs of the same data a day apart
    import_planted(per_group=8)
    succeeded_run("behaviour", django_capture_on_commit_callbacks)
    second = succeeded_run("behaviour", django_capture_on_commit_callbacks, as_of=date(2025, 7, 1))

    # when
    response = agent_client.get(reverse("segments:run", args=[second.pk]))

    # then
    html = response.content.decode()
    for check in ("substantial", "differentiable", "stable", "small"):
        assert f'data-testid="check-{check}"' in html
    assert "adjusted Rand" in html
    assert f"silhouette {second.quality['silhouette']:.2f}" in html
    assert f'data-testid="drift-moved">{second.drift["moved"]}<' in html
    assert f"of {second.drift['compared']} customers moved" in html
    report = response.context["report"]
    assert [(f.source.pk, f.target.pk, f.count) for f in report.flows] == [
        (f["from"], f["to"], f["count"]) for f in second.drift["flows"]
    ]


def test_the_run_page_warns_about_too_many_small_segments(agent_client):
    run, segment = current_run_with_members(3)
    run.quality = {
        **run.quality,
        "substantial": False,
        "small_segments": [str(segment.pk)],
        "warnings": ["3 of 4 segments hold less than 5% of customers; consider fewer segments."],
    }
    run.save(update_fields=["quality"])

    html = agent_client.get(reverse("segments:run", args=[run.pk])).content.decode()

    assert "consider fewer segments" in html
    assert "1 segment below 5% of customers" in html


def test_an_unknown_run_is_404(agent_client):
    assert agent_client.get(reverse("segments:run", args=[999])).status_code == 404
    assert agent_client.get(reverse("segments:run_progress", args=[999])).status_code == 404


def test_the_segmentation_page_shows_segments_with_size_trend_traits_and_rules(
    agent_client, django_capture_on_commit_callbacks
):
    import_planted(per_group=8)
    succeeded_run("behaviour", django_capture_on_commit_callbacks)
    run = succeeded_run("behaviour", django_capture_on_commit_callbacks, as_of=date(2025, 7, 1))

    response = agent_client.get(reverse("segments:segmentation", args=["behaviour"]))

    assert response.status_code == 200
    rows = response.context["rows"]
    assert len(rows) == run.k
    for summary, chart in rows:
        key = str(summary.segment.pk)
        assert summary.size == run.quality["sizes"][key]
        assert len(summary.trend) == 2 and summary.trend[-1].size == summary.size
        assert [p.value for p in chart.points] == summary.trend_sizes
        assert summary.rules == run.explanation[key]["rules"]
    html = response.content.decode()
    assert html.count('data-testid="trend-chart"') == run.k
    first_rule = next(s.rules[0]["rule"] for s, _ in rows if s.rules)
    assert first_rule.replace(">", "&gt;").replace("<", "&lt;") in html


def test_an_unknown_segmentation_is_404(agent_client):
    assert agent_client.get(reverse("segments:segmentation", args=["nope"])).status_code == 404


# A segment's page


def test_the_segment_page_shows_profile_members_and_explanation(agent_client):
    _, segment = current_run_with_members(3)
    segment.notes = "Offer the loyalty discount first."
    segment.needs = "Fast refunds"
    segment.save(update_fields=["notes", "needs"])

    response = agent_client.get(segment_url("segment", segment))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="segment-size">3<' in html
    assert "Offer the loyalty discount first." in html
    assert "Fast refunds" in html
    assert "high monetary: 900 vs 50" in html
    assert html.count('data-testid="member-row"') == 3
    assert 'data-testid="edit-profile"' not in html


def test_members_are_searched_by_name_or_email(agent_client):
    _, segment = current_run_with_members(4)
    Membership.objects.filter(segment=segment).first().customer.__class__.objects.filter(
        pk=Membership.objects.filter(segment=segment).first().customer_id
    ).update(name="Zelda Quist")

    response = agent_client.get(segment_url("segment", segment), {"q": "zelda"})

    members = response.context["members"]
    assert [m.customer.name for m in members.rows] == ["Zelda Quist"]


def test_members_are_paginated(agent_client):
    _, segment = current_run_with_members(55)

    first = agent_client.get(segment_url("segment", segment))
    second = agent_client.get(segment_url("segment", segment), {"page": 2})

    members, more = first.context["members"], second.context["members"]
    assert len(members.rows) == 50 and len(more.rows) == 5
    assert not {m.pk for m in members.rows} & {m.pk for m in more.rows}
    assert (members.has_previous, members.has_next) == (False, True)
    assert (more.has_previous, more.has_next) == (True, False)
    assert 'data-testid="members-next"' in first.content.decode()
    assert 'data-testid="members-prev"' in second.content.decode()
    assert "Page 2<" in second.content.decode()


def test_a_page_past_the_last_is_empty_not_an_error(agent_client):
    _, segment = current_run_with_members(3)

    response = agent_client.get(segment_url("segment", segment), {"page": 9})

    assert response.status_code == 200
    assert response.context["members"].rows == []
    assert "No members on this page." in response.content.decode()


def test_the_member_count_is_the_runs_stored_size_and_members_are_never_counted(
    agent_client, django_assert_max_num_queries
):
    _, segment = current_run_with_members(3)
    run = segment.segmentation.current_run
    run.quality["sizes"][str(segment.pk)] = 12345
    run.save(update_fields=["quality"])

    with django_assert_max_num_queries(8) as queries:
        response = agent_client.get(segment_url("segment", segment), {"page": 1})

    assert 'data-testid="member-count">12,345<' in response.content.decode()
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]


@pytest.mark.parametrize("params", [{"q": "x" * 201}, {"page": "zero"}, {"page": "-1"}])
def test_bad_member_search_input_is_a_400(agent_client, params):
    _, segment = current_run_with_members(2)

    assert agent_client.get(segment_url("segment", segment), params).status_code == 400
    assert agent_client.get(segment_url("segment_export", segment), params).status_code == 400


def test_the_segment_page_query_count_does_not_grow_with_members(
    agent_client, django_assert_max_num_queries, django_assert_num_queries
):
    _, segment = current_run_with_members(5)
    SegmentProfileRevision.objects.create(
        segment=segment, changes={"team": [None, TeamFactory().pk]}
    )
    warm(agent_client, segment_url("segment", segment))
    with django_assert_max_num_queries(8) as queries:
        agent_client.get(segment_url("segment", segment))
    few = len(queries.captured_queries)  # read before the next request resets the log

    more = Segment.objects.get(pk=segment.pk)
    customers = CustomerFactory.create_batch(45, organisation=OrganisationFactory())
    Membership.objects.bulk_create(
        Membership(run_id=more.segmentation.current_run_id, segment=more, customer=c)
        for c in customers
    )
    SegmentProfileRevision.objects.create(
        segment=segment, changes={"team": [None, TeamFactory().pk]}
    )

    warm(agent_client, segment_url("segment", segment))
    with django_assert_num_queries(few):
        response = agent_client.get(segment_url("segment", segment))
    assert len(response.context["members"].rows) == 50


def test_the_segmentation_page_query_count_does_not_grow_with_segments(
    agent_client, django_assert_max_num_queries, django_assert_num_queries
):
    run, segment = current_run_with_members(5)
    url = reverse("segments:segmentation", args=["behaviour"])
    warm(agent_client, url)
    with django_assert_max_num_queries(12) as queries:
        agent_client.get(url)
    few = len(queries.captured_queries)  # read before the next request resets the log
    for n in range(10):
        extra = Segment.objects.create(
            segmentation=segment.segmentation, slug=f"extra-{n}", team=TeamFactory()
        )
        run.quality["sizes"][str(extra.pk)] = n
    run.save(update_fields=["quality"])

    warm(agent_client, url)
    with django_assert_num_queries(few):
        response = agent_client.get(url)
    assert len(response.context["rows"]) == 11


def test_an_unknown_segment_is_404(agent_client):
    assert agent_client.get(reverse("segments:segment", args=[999])).status_code == 404
    assert agent_client.get(reverse("segments:segment_export", args=[999])).status_code == 404


# CSV export


def test_the_csv_export_streams_every_member_with_a_header(agent_client):
    _, segment = current_run_with_members(3)
    customer = Membership.objects.filter(segment=segment).first().customer
    customer.external_id = "C-1042"
    customer.save(update_fields=["external_id"])

    response = agent_client.get(segment_url("segment_export", segment))

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "behaviour-big-spenders-members.csv" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[0] == [
        "customer_id",
        "customer_external_id",
        "customer_email",
        "customer_name",
        "segmentation",
        "segment",
        "r_score",
        "f_score",
        "m_score",
        "recency_days",
        "frequency",
        "monetary",
    ]
    assert len(rows) == 4
    row = next(r for r in rows[1:] if r[0] == str(customer.pk))
    assert row[1:6] == [
        "C-1042",
        customer.email,
        customer.name,
        "behaviour",
        "Big spenders",
    ]
    assert row[6:] == [""] * 6


def test_the_csv_export_of_an_rfm_segment_carries_scores(
    agent_client, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(name='Ann, "the" buyer')
    for order in range(3):
        PurchaseFactory(customer=customer, amount="100.00", ordered_at=f"2025-06-1{order}T10:00Z")
    CustomerFactory.create_batch(4)
    succeeded_run("rfm", django_capture_on_commit_callbacks)
    membership = Membership.objects.select_related("segment").get(customer=customer)

    rows = csv_rows(agent_client.get(segment_url("segment_export", membership.segment)))

    row = next(r for r in rows[1:] if r[0] == str(customer.pk))
    assert row[3] == 'Ann, "the" buyer'
    assert row[5] == membership.segment.label
    assert row[6:] == [
        str(membership.r_score),
        str(membership.f_score),
        str(membership.m_score),
        str(membership.recency_days),
        "3",
        "300.00",
    ]


def test_the_csv_export_honours_the_search(agent_client):
    _, segment = current_run_with_members(3)
    target = Membership.objects.filter(segment=segment).first().customer

    rows = csv_rows(agent_client.get(segment_url("segment_export", segment), {"q": target.email}))

    assert [r[0] for r in rows[1:]] == [str(target.pk)]


# Editing a profile


def test_a_lead_edits_a_profile_and_the_history_keeps_it(lead_client, lead):
    # given
    _, segment = current_run_with_members(2)
    team = TeamFactory(name="VIP desk")
    form = {
        "name": "Loyal big spenders",
        "colour": "#dc2626",
        "description": "Buy often, spend a lot.",
        "key_traits": "many orders\n\nhigh spend\n",
        "needs": "Quick refunds",
        "support_preference": "phone",
        "value_to_business": "Most of the revenue",
        "notes": "Call back within the hour.",
        "team": team.pk,
    }

    # when
    response = lead_client.post(segment_url("segment_edit", segment), form)

    # then
    assert response.status_code == 302
    segment.refresh_from_db()
    assert segment.name == "Loyal big spenders"
    assert segment.key_traits == ["many orders", "high spend"]
    assert (segment.support_preference, segment.team, segment.colour) == ("phone", team, "#dc2626")
    revision = SegmentProfileRevision.objects.get()
    assert revision.editor == lead
    assert revision.changes["name"] == ["Big spenders", "Loyal big spenders"]
    page = lead_client.get(segment_url("segment", segment)).content.decode()
    assert page.count('data-testid="revision"') == 1
    assert "<del>Big spenders</del> → <ins>Loyal big spenders</ins>" in page
    assert "<ins>VIP desk</ins>" in page


def test_saving_an_unchanged_profile_adds_no_revision(lead_client):
    _, segment = current_run_with_members(1)
    form = lead_client.get(segment_url("segment_edit", segment)).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}

    response = lead_client.post(segment_url("segment_edit", segment), data)

    assert response.status_code == 302
    assert not SegmentProfileRevision.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("colour", "red"), ("colour", ""), ("support_preference", "fax"), ("team", "999")],
)
def test_a_bad_profile_value_is_a_400_with_the_form(lead_client, field, value):
    _, segment = current_run_with_members(1)
    data = {"colour": "#16a34a", field: value}

    response = lead_client.post(segment_url("segment_edit", segment), data)

    assert response.status_code == 400
    assert f'data-testid="error-{field}"' in response.content.decode()
    assert not SegmentProfileRevision.objects.exists()


def test_the_edit_form_shows_the_proposed_name_as_a_suggestion(lead_client):
    _, segment = current_run_with_members(1)
    segment.proposed_name = "High spend, Frequent buyers"
    segment.save(update_fields=["proposed_name"])

    html = lead_client.get(segment_url("segment_edit", segment)).content.decode()

    assert 'data-testid="proposed-name">High spend, Frequent buyers<' in html
    assert 'placeholder="High spend, Frequent buyers"' in html


# Rule-based segments


@pytest.fixture
def rule_segmentation(db):
    return Segmentation.objects.create(
        name="Plans", slug="plans", kind=Segmentation.Kind.RULE, schedule="manual"
    )


@pytest.fixture
def customers_by_plan(db):
    for plan, count in (("pro", 3), ("basic", 5)):
        for _ in range(count):
            PurchaseFactory(customer=CustomerFactory(plan=plan), amount="80.00")


def criteria_form(name: str, match: str, *rows: tuple[str, str, str]) -> dict:
    data = {
        "name": name,
        "match": match,
        "criteria-TOTAL_FORMS": str(len(rows)),
        "criteria-INITIAL_FORMS": "0",
    }
    for n, (field, op, value) in enumerate(rows):
        data |= {f"criteria-{n}-field": field, f"criteria-{n}-op": op, f"criteria-{n}-value": value}
    return data


def test_a_lead_creates_a_rule_segment_and_edits_its_criteria(
    lead_client, rule_segmentation, customers_by_plan
):
    url = reverse("segments:rule_segment_new", args=["plans"])
    assert lead_client.get(url).status_code == 200

    response = lead_client.post(
        url, criteria_form("Pro plan", "all", ("plan", "=", "pro"), ("", "=", ""))
    )

    segment = Segment.objects.get(segmentation=rule_segmentation)
    assert response.status_code == 302
    assert (segment.name, segment.match) == ("Pro plan", "all")
    assert segment.criteria == [{"field": "plan", "op": "=", "value": "pro"}]

    response = lead_client.post(
        segment_url("rule_segment_edit", segment),
        criteria_form("Pro plan", "any", ("plan", "in", "pro, basic")),
    )

    segment.refresh_from_db()
    assert response.status_code == 302
    assert segment.criteria == [{"field": "plan", "op": "in", "value": ["pro", "basic"]}]
    assert segment.match == "any"


@pytest.mark.parametrize(
    "rows",
    [
        (),
        (("plan", "=", ""),),
        (("monetary", ">", "lots"),),
        (("no_such_column", "=", "1"),),
        (("plan", "~", "pro"),),
    ],
)
def test_bad_criteria_are_a_400_and_save_nothing(
    lead_client, rule_segmentation, customers_by_plan, rows
):
    response = lead_client.post(
        reverse("segments:rule_segment_new", args=["plans"]), criteria_form("Pro", "all", *rows)
    )

    assert response.status_code == 400
    assert 'class="form-error' in response.content.decode()
    assert not Segment.objects.filter(segmentation=rule_segmentation).exists()


def test_rules_are_only_for_rule_based_segmentations(lead_client):
    response = lead_client.get(reverse("segments:rule_segment_new", args=["behaviour"]))

    assert response.status_code == 404


def test_the_live_preview_counts_matching_customers(lead_client, customers_by_plan):
    url = reverse("segments:rule_preview")

    pro = lead_client.post(url, criteria_form("", "all", ("plan", "=", "pro")))
    big = lead_client.post(
        url, criteria_form("", "any", ("plan", "=", "pro"), ("monetary", ">=", "80"))
    )

    assert pro.status_code == 200
    assert (pro.context["count"], pro.context["population"]) == (3, 8)
    assert 'data-testid="rule-preview-count">3<' in pro.content.decode()
    assert big.context["count"] == 8


@pytest.mark.parametrize(
    "data",
    [
        criteria_form("", "all", ("monetary", ">", "lots")),
        criteria_form("", "all"),
        criteria_form("", "sometimes", ("plan", "=", "pro")),
        {"match": "all"},
    ],
)
def test_the_live_preview_explains_bad_criteria_with_a_400(lead_client, customers_by_plan, data):
    response = lead_client.post(reverse("segments:rule_preview"), data)

    assert response.status_code == 400
    assert 'data-testid="rule-preview-errors"' in response.content.decode()


# Badges and filters on the core pages


def test_the_ticket_page_shows_the_segment_once_with_traits_and_notes(agent_client):
    _, segment = current_run_with_members(1)
    segment.notes = "Offer a callback within the hour."
    segment.key_traits = ["orders every week"]
    segment.save(update_fields=["notes", "key_traits"])
    customer = Membership.objects.get(segment=segment).customer
    ticket = TicketFactory(customer=customer)

    html = agent_client.get(reverse("tickets:ticket", args=[ticket.pk])).content.decode()

    assert html.count('data-testid="segment-panel"') == 1
    assert "Offer a callback within the hour." in html
    assert "orders every week" in html
    assert f'href="{segment_url("segment", segment)}"' in html


@pytest.mark.parametrize("url_name", ["tickets:inbox", "tickets:customers"])
def test_the_inbox_and_customer_list_filter_by_segment(agent_client, url_name):
    _, segment = current_run_with_members(2)
    members = list(Membership.objects.filter(segment=segment).values_list("customer", flat=True))
    for customer_id in [*members, CustomerFactory().pk]:
        TicketFactory(customer_id=customer_id)

    response = agent_client.get(reverse(url_name), {"segment": "behaviour/big-spenders"})

    assert response.status_code == 200
    shown = [
        entry.customer_id if url_name == "tickets:inbox" else entry.pk
        for entry, _ in response.context["page"].entries
    ]
    assert sorted(shown) == sorted(members)
    assert 'value="behaviour/big-spenders" selected' in response.content.decode()
