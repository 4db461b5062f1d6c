"""A lead runs the segmentation and names a segment; an agent sees it beside a ticket.

The live server's Celery is eager: a run would execute inside the "Run now" request, so the
page would only ever show 100 %. ``runs_in_background`` delivers the task to a thread instead,
as a worker would after the commit, and makes the feature stage take a moment, so the page
shows the run in progress and then polls it to the end.
"""

import io
import re
import threading
import time

import pytest
from django.db import connections
from django.utils import timezone
from playwright.sync_api import expect

from segments import features, services
from segments.models import Membership, Segmentation, SegmentRun
from segments.tasks import execute_segment_run_task
from tests.segments.planted import planted_customers
from tickets import services as ticket_services
from tickets.models import Customer
from tickets.services.imports import import_csv

FEATURE_STAGE_SECONDS = 2.5


@pytest.fixture
def customers(db):
    data = planted_customers(per_group=8, as_of=timezone.localdate())
    for kind, payload in (
        ("customers", data.customers_csv),
        ("purchases", data.purchases_csv),
        ("tickets", data.tickets_csv),
    ):
        assert import_csv(kind=kind, source=io.BytesIO(payload)).written
    return Customer.objects.order_by("pk")


@pytest.fixture
def runs_in_background(live_server, monkeypatch):
    threads: list[threading.Thread] = []
    # With in-memory SQLite the live server shares the test's one connection; the worker
    # thread uses it too, as a second connection to the shared-cache database fails with
    # "table is locked" while another one writes. On PostgreSQL the thread opens and closes
    # its own.
    shared = connections["default"]
    load = features.load_feature_frame

    def slow_load(**kwargs):
        time.sleep(FEATURE_STAGE_SECONDS)
        return load(**kwargs)

    def work(run_id: int) -> None:
        sharing = shared.vendor == "sqlite" and shared.is_in_memory_db()
        if sharing:
            shared.inc_thread_sharing()
            connections["default"] = shared
        try:
            services.execute_segment_run(run_id=run_id)
        finally:
            if sharing:
                shared.dec_thread_sharing()
            else:
                connections.close_all()

    def deliver(run_id: int) -> None:
        thread = threading.Thread(target=work, args=(run_id,))
        threads.append(thread)
        thread.start()

    monkeypatch.setattr(features, "load_feature_frame", slow_load)
    monkeypatch.setattr(execute_segment_run_task, "delay", deliver)
    yield threads
    for thread in threads:
        thread.join(timeout=60)


def test_lead_runs_and_names_a_segment_agent_sees_it_on_a_ticket(
    page, login, screenshot, lead, agent, customers, runs_in_background
):
    ann = customers.first()
    ticket = ticket_services.create_ticket(
        customer=ann, subject="Where is my order?", body_text="Ordered last week, nothing yet."
    )
    progress_polls = []
    page.on("request", lambda r: "/progress/" in r.url and progress_polls.append(r.url))

    # when: the lead starts the behaviour segmentation from the segments page
    login(page, lead)
    page.get_by_test_id("nav-segments").click()
    row = page.locator("[data-testid=segmentation-row][data-slug=behaviour]")
    expect(row.get_by_test_id("run-state")).to_have_count(0)
    screenshot(page, "segments-01-list")
    row.get_by_test_id("run-now").click()

    # then: the run page shows the run in progress, then polls it to 100 % and its results
    live = page.get_by_test_id("run-live")
    expect(page).to_have_url(re.compile(r"/segments/runs/\d+/$"))
    expect(live).to_have_attribute("data-state", "running")
    expect(page.get_by_test_id("run-stage")).to_have_text("Stage: features")
    expect(page.get_by_test_id("run-percent")).to_have_text("5%")
    screenshot(page, "segments-02-run-in-progress")
    expect(live).to_have_attribute("data-state", "succeeded", timeout=30_000)
    expect(page.get_by_test_id("run-percent")).to_have_text("100%")
    expect(page.get_by_test_id("quality")).to_be_visible()
    expect(page.get_by_test_id("check-substantial")).to_be_visible()
    screenshot(page, "segments-03-run-done")
    assert len(progress_polls) >= 2  # at least one poll saw the run unfinished
    run = SegmentRun.objects.get()
    assert run.requested_by == lead
    assert Segmentation.objects.get(slug="behaviour").current_run == run

    # when: the lead opens the segment Ann is in and renames it, with notes for agents
    segment = Membership.objects.select_related("segment").get(run=run, customer=ann).segment
    page.get_by_role("link", name="← Behaviour").click()
    expect(page.get_by_test_id("segment-row")).to_have_count(run.k)
    expect(page.get_by_test_id("trend-chart")).to_have_count(run.k)
    screenshot(page, "segments-03b-segmentation")
    page.get_by_test_id("segments").get_by_role("link", name=segment.label).click()
    expect(page.get_by_test_id("segment-title")).to_have_text(segment.label)
    page.get_by_test_id("edit-profile").click()
    expect(page.get_by_test_id("proposed-name")).to_have_text(segment.proposed_name)
    page.fill("#id_name", "VIP buyers")
    page.fill("#id_notes", "Offer a callback within the hour.")
    page.get_by_test_id("profile-save").click()

    # then: the segment page shows the new name, the notes and the edit in the history
    expect(page.get_by_test_id("segment-title")).to_have_text("VIP buyers")
    expect(page.get_by_test_id("segment-notes")).to_have_text("Offer a callback within the hour.")
    expect(page.get_by_test_id("revision")).to_have_count(1)
    expect(page.get_by_test_id("member-row").first).to_be_visible()
    screenshot(page, "segments-04-segment-renamed")
    page.get_by_test_id("logout").click()

    # when: an agent opens Ann's ticket
    login(page, agent)
    page.goto(f"/tickets/{ticket.pk}/")

    # then: the sidebar shows the segment badge and the profile's notes
    badges = page.get_by_test_id("segment-badges").get_by_test_id("badge")
    expect(badges.filter(has_text="VIP buyers")).to_have_count(1)
    panel = page.get_by_test_id("customer-panel").filter(has_text="VIP buyers")
    expect(panel).to_contain_text("Offer a callback within the hour.")
    screenshot(page, "segments-05-ticket-sidebar")

    # and the inbox row and the customer profile carry the badge
    page.goto("/")
    inbox_row = page.get_by_test_id("inbox-row").filter(has_text="Where is my order?")
    expect(inbox_row.get_by_test_id("badge").filter(has_text="VIP buyers")).to_be_visible()
    screenshot(page, "segments-06-inbox-badge")
    page.goto(f"/customers/{ann.pk}/")
    expect(page.get_by_test_id("badge").filter(has_text="VIP buyers").first).to_be_visible()
    screenshot(page, "segments-07-customer-badge")

    # when: the agent tries to edit the segment profile
    response = page.goto(f"/segments/segment/{segment.pk}/edit/")

    # then: it is refused, and the segment page offers no edit button
    assert response.status == 403
    screenshot(page, "segments-08-agent-refused")
    page.goto(f"/segments/segment/{segment.pk}/")
    expect(page.get_by_test_id("segment-title")).to_have_text("VIP buyers")
    expect(page.get_by_test_id("edit-profile")).to_have_count(0)


def test_lead_defines_a_rule_segment_with_a_live_count(page, login, screenshot, lead, customers):
    Segmentation.objects.create(
        name="Plans", slug="plans", kind=Segmentation.Kind.RULE, schedule="manual"
    )
    Customer.objects.filter(pk__in=[c.pk for c in customers[:3]]).update(plan="pro")
    preview = page.get_by_test_id("rule-preview")

    # when: the lead opens the editor of a new rule-based segment and types criteria
    login(page, lead)
    page.goto("/segments/plans/")
    page.get_by_test_id("new-rule-segment").click()
    page.fill("#id_name", "Pro plan")
    page.select_option("#id_criteria-0-field", "plan")
    page.select_option("#id_criteria-0-op", "=")
    page.fill("#id_criteria-0-value", "pro")

    # then: the count of matching customers follows each change
    expect(preview.get_by_test_id("rule-preview-count")).to_have_text("3")
    page.fill("#id_criteria-0-value", "nobody-has-this")
    expect(preview.get_by_test_id("rule-preview-count")).to_have_text("0")
    page.select_option("#id_criteria-0-field", "monetary")
    page.select_option("#id_criteria-0-op", ">")
    expect(preview.get_by_test_id("rule-preview-errors")).to_contain_text("is a number")
    page.select_option("#id_criteria-0-field", "plan")
    page.select_option("#id_criteria-0-op", "in")
    page.fill("#id_criteria-0-value", "pro, basic")
    expect(preview.get_by_test_id("rule-preview-count")).to_have_text("3")
    screenshot(page, "segments-09-rule-editor")

    # when: the lead saves
    page.get_by_test_id("rule-save").click()

    # then: the segment page shows the criteria
    expect(page.get_by_test_id("segment-title")).to_have_text("Pro plan")
    expect(page.get_by_test_id("segment-explanation")).to_contain_text("plan in")
    screenshot(page, "segments-10-rule-segment")
