"""Runs whose worker died without the task coming back: the sweeper marks them failed from their
heartbeat, the previous run stays current, and a new run may start at once."""

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from segments import services, tasks
from segments.models import Segmentation, SegmentRun
from segments.selectors import badges_by_customer
from tests.segments.runs import run_now
from tests.segments.test_services import customers_with_purchases

STOPPED_AT_80 = "The worker stopped responding at 80 % — start it again."


def silent_for(seconds: float) -> timezone.datetime:
    return timezone.now() - timedelta(seconds=seconds)


def killed_in_write_back(first: SegmentRun, monkeypatch) -> SegmentRun:
    """A second run whose worker died while writing its memberships (SIGKILL, no redelivery)."""
    second = SegmentRun.objects.create(segmentation=first.segmentation, as_of=date(2025, 7, 1))
    real_writer = services.write_memberships

    def die(**kwargs):
        raise SystemExit("worker killed")

    with monkeypatch.context() as patched:
        patched.setattr(services, "write_memberships", die)
        with pytest.raises(SystemExit):
            services.execute_segment_run(run_id=second.pk)
    assert services.write_memberships is real_writer
    second.refresh_from_db()
    assert (second.state, second.progress) == (SegmentRun.State.RUNNING, 80)
    return second


@pytest.fixture
def first_run(db, django_capture_on_commit_callbacks) -> SegmentRun:
    customers_with_purchases(10)
    return run_now("rfm", django_capture_on_commit_callbacks)


def test_a_run_silent_past_the_timeout_is_failed_with_its_progress(first_run, monkeypatch):
    # given: a run whose worker died at 80 %, silent for longer than the timeout
    customer_ids = list(first_run.memberships.values_list("customer_id", flat=True))
    badges_before = badges_by_customer(customer_ids)
    stalled = killed_in_write_back(first_run, monkeypatch)
    SegmentRun.objects.filter(pk=stalled.pk).update(
        heartbeat_at=silent_for(settings.JOB_HEARTBEAT_TIMEOUT + 1)
    )

    # when
    failed = tasks.fail_stalled_segment_runs()

    # then: failed with the reason; the previous run and its badges stay current
    stalled.refresh_from_db()
    assert failed == 1
    assert (stalled.state, stalled.error) == (SegmentRun.State.FAILED, STOPPED_AT_80)
    assert stalled.finished_at is not None
    assert Segmentation.objects.get(slug="rfm").current_run == first_run
    assert badges_by_customer(customer_ids) == badges_before


def test_a_running_run_with_a_recent_heartbeat_is_left_alone(first_run, monkeypatch):
    # given: a run started long ago whose worker reported progress just now
    running = killed_in_write_back(first_run, monkeypatch)
    SegmentRun.objects.filter(pk=running.pk).update(
        started_at=silent_for(3 * settings.JOB_HEARTBEAT_TIMEOUT),
        heartbeat_at=silent_for(settings.JOB_HEARTBEAT_TIMEOUT - 5),
    )

    # when
    failed = services.fail_stalled_runs()

    # then
    running.refresh_from_db()
    assert failed == []
    assert (running.state, running.error, running.finished_at) == (
        SegmentRun.State.RUNNING,
        "",
        None,
    )
    with pytest.raises(ValidationError, match="already queued or running"):
        services.start_segment_run(segmentation=first_run.segmentation)


def test_a_new_run_starts_after_the_sweep_and_replaces_the_previous_one(
    first_run, monkeypatch, django_capture_on_commit_callbacks
):
    # given: a stalled run, failed by the sweeper
    stalled = killed_in_write_back(first_run, monkeypatch)
    SegmentRun.objects.filter(pk=stalled.pk).update(
        heartbeat_at=silent_for(settings.JOB_HEARTBEAT_TIMEOUT + 1)
    )
    services.fail_stalled_runs()

    # when: the lead starts again
    third = run_now("rfm", django_capture_on_commit_callbacks, as_of=date(2025, 7, 2))

    # then: the new run is current; the stalled one stays failed
    assert third.state == SegmentRun.State.SUCCEEDED, third.error
    assert Segmentation.objects.get(slug="rfm").current_run == third
    stalled.refresh_from_db()
    assert (stalled.state, stalled.error) == (SegmentRun.State.FAILED, STOPPED_AT_80)


def test_starting_a_run_fails_a_stalled_one_without_waiting_for_the_sweeper(first_run, monkeypatch):
    stalled = killed_in_write_back(first_run, monkeypatch)
    SegmentRun.objects.filter(pk=stalled.pk).update(
        heartbeat_at=silent_for(settings.JOB_HEARTBEAT_TIMEOUT + 1)
    )

    new = services.start_segment_run(segmentation=first_run.segmentation, enqueue=False)

    stalled.refresh_from_db()
    assert stalled.state == SegmentRun.State.FAILED
    assert new.state == SegmentRun.State.QUEUED


def test_the_task_of_a_stalled_run_coming_back_late_changes_nothing(first_run, monkeypatch):
    # given: a stalled run failed by the sweeper
    stalled = killed_in_write_back(first_run, monkeypatch)
    SegmentRun.objects.filter(pk=stalled.pk).update(
        heartbeat_at=silent_for(settings.JOB_HEARTBEAT_TIMEOUT + 1)
    )
    services.fail_stalled_runs()

    # when: its task is delivered again
    again = services.execute_segment_run(run_id=stalled.pk)

    # then
    assert (again.state, again.error) == (SegmentRun.State.FAILED, STOPPED_AT_80)
    assert Segmentation.objects.get(slug="rfm").current_run == first_run
    assert not again.memberships.exists()


def test_a_worker_still_computing_a_run_failed_as_stalled_drops_its_results(first_run, monkeypatch):
    # given: the sweeper fails the run while its worker is slow in the scoring stage
    second = SegmentRun.objects.create(segmentation=first_run.segmentation, as_of=date(2025, 7, 1))
    real_scoring = services.rfm.rfm_table

    def slow_scoring(frame):
        SegmentRun.objects.filter(pk=second.pk).update(
            heartbeat_at=silent_for(settings.JOB_HEARTBEAT_TIMEOUT + 1)
        )
        assert services.fail_stalled_runs() == [second.pk]
        return real_scoring(frame)

    monkeypatch.setattr(services.rfm, "rfm_table", slow_scoring)

    # when: the worker finishes the stage
    result = services.execute_segment_run(run_id=second.pk)

    # then: the run stays failed with the sweeper's reason and never becomes current
    assert result.state == SegmentRun.State.FAILED
    assert result.error.startswith("The worker stopped responding at 40 %")
    assert Segmentation.objects.get(slug="rfm").current_run == first_run
    assert not result.memberships.exists()


def test_a_run_queued_for_an_hour_without_a_worker_is_failed(db):
    segmentation = Segmentation.objects.get(slug="rfm")
    lost = services.start_segment_run(segmentation=segmentation, enqueue=False)
    recent = services.start_segment_run(
        segmentation=Segmentation.objects.get(slug="behaviour"), enqueue=False
    )
    SegmentRun.objects.filter(pk=lost.pk).update(
        created_at=timezone.now() - services.RUN_QUEUE_TIMEOUT - timedelta(seconds=1)
    )

    assert services.fail_stalled_runs() == [lost.pk]

    lost.refresh_from_db()
    recent.refresh_from_db()
    assert (lost.state, lost.error) == (SegmentRun.State.FAILED, services.NEVER_STARTED)
    assert recent.state == SegmentRun.State.QUEUED


def test_the_run_page_shows_why_a_stalled_run_failed(first_run, monkeypatch, agent_client):
    stalled = killed_in_write_back(first_run, monkeypatch)
    SegmentRun.objects.filter(pk=stalled.pk).update(
        heartbeat_at=silent_for(settings.JOB_HEARTBEAT_TIMEOUT + 1)
    )
    services.fail_stalled_runs()

    response = agent_client.get(reverse("segments:run", args=[stalled.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-state="failed"' in html
    assert STOPPED_AT_80 in html
    assert "The previous run's segments and badges stay in place." in html
    assert 'data-testid="run-now"' not in html


def test_a_lead_can_start_again_from_the_stalled_run_page(first_run, monkeypatch, lead_client):
    stalled = killed_in_write_back(first_run, monkeypatch)
    SegmentRun.objects.filter(pk=stalled.pk).update(
        heartbeat_at=silent_for(settings.JOB_HEARTBEAT_TIMEOUT + 1)
    )
    services.fail_stalled_runs()

    html = lead_client.get(reverse("segments:run", args=[stalled.pk])).content.decode()
    response = lead_client.post(reverse("segments:start_run", args=["rfm"]))

    assert 'data-testid="run-now"' in html
    assert reverse("segments:start_run", args=["rfm"]) in html
    new = SegmentRun.objects.exclude(pk__in=[first_run.pk, stalled.pk]).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("segments:run", args=[new.pk])
