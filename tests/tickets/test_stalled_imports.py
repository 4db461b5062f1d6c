"""Import jobs whose worker died without the task coming back: the sweeper marks them failed
from the time of their last progress, the page says why, and the lead imports the file again."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from helpdesk.models import AuditLog
from tickets import tasks
from tickets.models import Customer, ImportJob
from tickets.services import imports

# Live progress lives in the cache, keyed by job id; ids repeat between tests.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_cache")]

CUSTOMERS_CSV = b"external_id,email,name\nC1,ann@example.com,Ann\nC2,bob@example.com,Bob\n"
TIMEOUT = timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT)
STOPPED_AT_42 = "The worker stopped responding at 42 % — start it again."


def running_job(*, started: timedelta) -> ImportJob:
    """A job a worker claimed ``started`` ago."""
    return ImportJob.objects.create(
        kind="customers",
        file=ContentFile(CUSTOMERS_CSV, name="customers.csv"),
        state=ImportJob.State.RUNNING,
        started_at=timezone.now() - started,
    )


def progress_reported(monkeypatch, job: ImportJob, done: int, total: int, *, ago: timedelta):
    """The worker's last progress report, ``ago`` before now."""
    at = timezone.now() - ago
    with monkeypatch.context() as clock:
        clock.setattr(imports.timezone, "now", lambda: at)
        imports._publish_progress(job.pk, "importing", done, total)


def test_a_job_silent_past_the_timeout_is_failed_with_its_progress(monkeypatch):
    # given: a job whose worker last reported 420 of 1000 rows longer ago than the timeout
    job = running_job(started=3 * TIMEOUT)
    progress_reported(monkeypatch, job, 420, 1000, ago=TIMEOUT + timedelta(seconds=1))

    # when
    swept = tasks.sweep_unfinished_work()

    # then
    job.refresh_from_db()
    assert swept["fail_stalled_imports"] == 1
    assert (job.state, job.failure_reason) == (ImportJob.State.FAILED, STOPPED_AT_42)
    assert job.finished_at is not None
    assert imports.live_progress(job) == ("", 0, 0)
    audit = AuditLog.objects.get(action="import_finished", target_id=job.pk)
    assert audit.changes == {"state": "failed", "reason": STOPPED_AT_42}


def test_a_job_claimed_long_ago_that_reported_recently_is_left_alone(monkeypatch):
    job = running_job(started=3 * TIMEOUT)
    progress_reported(monkeypatch, job, 420, 1000, ago=TIMEOUT - timedelta(seconds=5))

    assert imports.fail_stalled_import_jobs() == []

    job.refresh_from_db()
    assert (job.state, job.failure_reason, job.finished_at) == (ImportJob.State.RUNNING, "", None)


def test_a_job_claimed_recently_that_has_not_reported_yet_is_left_alone():
    job = running_job(started=TIMEOUT - timedelta(seconds=5))

    assert imports.fail_stalled_import_jobs() == []

    job.refresh_from_db()
    assert job.state == ImportJob.State.RUNNING


def test_a_job_killed_in_its_write_is_failed_and_left_nothing(monkeypatch):
    # given: the worker dies while writing the rows (nothing catches SystemExit, as SIGKILL)
    job = ImportJob.objects.create(
        kind="customers", file=ContentFile(CUSTOMERS_CSV, name="customers.csv")
    )
    kind = imports.IMPORT_KINDS["customers"]

    def die(rows, header):
        kind.write(rows.head(1), header)
        assert Customer.objects.count() == 1
        raise SystemExit("worker killed")

    monkeypatch.setitem(
        imports.IMPORT_KINDS, "customers", imports.ImportKind(kind.csv_format, kind.check, die)
    )
    with pytest.raises(SystemExit):
        imports.run_import_job(job_id=job.pk)
    assert ImportJob.objects.get(pk=job.pk).state == ImportJob.State.RUNNING

    # when: it stays silent past the timeout
    monkeypatch.setattr(imports, "heartbeat_cutoff", lambda: timezone.now() + timedelta(seconds=1))
    failed = imports.fail_stalled_import_jobs()

    # then: the checked rows were all it did
    job.refresh_from_db()
    assert failed == [job.pk]
    assert job.state == ImportJob.State.FAILED
    assert job.failure_reason == "The worker stopped responding at 0 % — start it again."
    assert not Customer.objects.exists()


def test_queued_and_finished_jobs_are_not_swept():
    for state in (ImportJob.State.QUEUED, ImportJob.State.SUCCEEDED):
        ImportJob.objects.create(
            kind="customers", file=ContentFile(CUSTOMERS_CSV, name="customers.csv"), state=state
        )
    ImportJob.objects.update(created_at=timezone.now() - 3 * TIMEOUT)

    assert imports.fail_stalled_import_jobs() == []


def test_a_job_left_queued_past_the_cutoff_is_sent_to_the_worker_again():
    # given: a job whose task was lost (the broker was down), and one queued a while ago
    lost, fresh = (
        ImportJob.objects.create(
            kind="customers", file=ContentFile(CUSTOMERS_CSV, name="customers.csv")
        )
        for _ in range(2)
    )
    ImportJob.objects.filter(pk=lost.pk).update(created_at=timezone.now() - TIMEOUT * 2)
    ImportJob.objects.filter(pk=fresh.pk).update(created_at=timezone.now() - TIMEOUT / 2)

    # when: the sweep runs (Celery is eager here: the job runs at once)
    swept = tasks.sweep_unfinished_work()

    # then: the lost job ran once, the other may still be waiting behind a long job
    assert swept["import"] == 1
    lost.refresh_from_db()
    fresh.refresh_from_db()
    assert (lost.state, fresh.state) == (ImportJob.State.SUCCEEDED, ImportJob.State.QUEUED)
    assert Customer.objects.count() == 2
    assert tasks.sweep_unfinished_work()["import"] == 0


# The job page


def stalled_job(monkeypatch) -> ImportJob:
    job = running_job(started=3 * TIMEOUT)
    progress_reported(monkeypatch, job, 420, 1000, ago=TIMEOUT + timedelta(seconds=1))
    imports.fail_stalled_import_jobs()
    return job


def test_the_page_of_a_stalled_job_says_why_and_stops_polling(lead_client, monkeypatch):
    job = stalled_job(monkeypatch)

    response = lead_client.get(reverse("tickets:import_job_progress", args=[job.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert f"{STOPPED_AT_42} Nothing was imported." in html
    assert "hx-trigger" not in html
    assert 'data-testid="import-counts"' not in html
    assert reverse("tickets:import_retry", args=[job.pk]) in html


def test_a_lead_imports_the_file_of_a_stalled_job_again(
    lead_client, monkeypatch, django_capture_on_commit_callbacks
):
    # given
    job = stalled_job(monkeypatch)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = lead_client.post(reverse("tickets:import_retry", args=[job.pk]))

    # then: a new job ran the same stored file
    retry = ImportJob.objects.exclude(pk=job.pk).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:import_job", args=[retry.pk])
    assert (retry.file.name, retry.kind, retry.state) == (job.file.name, "customers", "succeeded")
    assert set(Customer.objects.values_list("external_id", flat=True)) == {"C1", "C2"}


def test_importing_again_twice_gives_the_same_new_job(lead_client, monkeypatch):
    # given
    job = stalled_job(monkeypatch)

    # when: the lead clicks twice
    first = lead_client.post(reverse("tickets:import_retry", args=[job.pk]))
    second = lead_client.post(reverse("tickets:import_retry", args=[job.pk]))

    # then: one new job, and both clicks land on it
    retry = ImportJob.objects.get(retry_of=job)
    assert ImportJob.objects.count() == 2
    assert first["Location"] == second["Location"] == reverse("tickets:import_job", args=[retry.pk])


def test_only_a_failed_job_is_imported_again(lead_client):
    job = ImportJob.objects.create(
        kind="customers",
        file=ContentFile(CUSTOMERS_CSV, name="customers.csv"),
        state=ImportJob.State.SUCCEEDED,
    )

    response = lead_client.post(reverse("tickets:import_retry", args=[job.pk]), follow=True)

    assert "Only a failed import can be started again." in response.content.decode()
    assert ImportJob.objects.count() == 1


def test_agents_may_not_import_again(agent_client, monkeypatch):
    job = stalled_job(monkeypatch)

    assert agent_client.post(reverse("tickets:import_retry", args=[job.pk])).status_code == 403
    assert ImportJob.objects.count() == 1


def test_importing_again_takes_a_post_of_a_known_job(lead_client, monkeypatch):
    job = stalled_job(monkeypatch)

    assert lead_client.get(reverse("tickets:import_retry", args=[job.pk])).status_code == 405
    assert lead_client.post(reverse("tickets:import_retry", args=[999])).status_code == 404
    assert ImportJob.objects.count() == 1


def test_a_slow_worker_finishing_after_the_sweep_replaces_the_failure_with_its_outcome(
    monkeypatch,
):
    # given: a job the sweeper failed while its worker was still (slowly) writing
    job = running_job(started=3 * TIMEOUT)
    progress_reported(monkeypatch, job, 420, 1000, ago=TIMEOUT + timedelta(seconds=1))
    imports.fail_stalled_import_jobs()

    # when: the worker finishes after all
    imports._finish(job, imports.ImportResult(total_rows=2, created=2, written=True))

    # then: the job says what happened, with no stale reason
    job.refresh_from_db()
    assert (job.state, job.failure_reason, job.created_count) == (
        ImportJob.State.SUCCEEDED,
        "",
        2,
    )
