import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tickets.models import Customer, ImportJob
from tickets.services import imports
from tickets.views import imports as import_views

# Live progress lives in the cache, keyed by job id; ids repeat between tests.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_cache")]

CUSTOMERS_CSV = b"external_id,email,name\nC1,ann@example.com,Ann\nC2,bob@example.com,Bob\n"


def upload(client, content: bytes = CUSTOMERS_CSV, name: str = "customers.csv", **fields):
    data = {"kind": "customers", "file": SimpleUploadedFile(name, content), **fields}
    return client.post(reverse("tickets:import_upload"), data)


def job_with(**fields) -> ImportJob:
    return ImportJob.objects.create(
        kind="customers", file=ContentFile(CUSTOMERS_CSV, name="customers.csv"), **fields
    )


def test_agents_may_not_import(agent_client):
    assert agent_client.get(reverse("tickets:import_upload")).status_code == 403
    assert upload(agent_client).status_code == 403
    assert not ImportJob.objects.exists()


def test_agents_may_not_see_jobs(agent_client):
    job = job_with()

    assert agent_client.get(reverse("tickets:import_job", args=[job.pk])).status_code == 403
    progress = reverse("tickets:import_job_progress", args=[job.pk])
    assert agent_client.get(progress).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("tickets:import_upload"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_upload_page_offers_every_registered_kind(lead_client):
    response = lead_client.get(reverse("tickets:import_upload"))

    assert response.status_code == 200
    kinds = [value for value, _ in response.context["form"].fields["kind"].choices]
    assert kinds == sorted(imports.IMPORT_KINDS)


def test_a_lead_uploads_a_file_and_lands_on_its_finished_job(
    lead_client, lead, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(lead_client)

    # then
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("tickets:import_job", args=[job.pk])
    job.refresh_from_db()
    assert (job.state, job.created_by, job.created_count) == (ImportJob.State.SUCCEEDED, lead, 2)
    assert Customer.objects.count() == 2
    page = lead_client.get(response.url)
    assert page.status_code == 200
    assert page.context["percent"] == 100
    assert 'data-testid="import-counts"' in page.content.decode()


def test_an_admin_may_import_too(admin_client):
    assert upload(admin_client, skip_invalid="on").status_code == 302
    assert ImportJob.objects.get().skip_invalid


def test_a_file_over_the_size_limit_is_refused_with_a_clear_error(lead_client, monkeypatch):
    monkeypatch.setattr(import_views, "MAX_UPLOAD_BYTES", 2 * 2**20)

    response = upload(lead_client, content=b"x" * (3 * 2**20))

    assert response.status_code == 400
    assert response.context["form"].errors["file"] == [
        "The file is 3 MB; the limit is 2 MB. Split it, or use the import_data command."
    ]
    assert not ImportJob.objects.exists()


def test_a_file_that_is_not_csv_is_refused(lead_client):
    response = upload(lead_client, name="customers.xlsx")

    assert response.status_code == 400
    assert response.context["form"].errors["file"] == ["Upload a .csv file."]


def test_an_unknown_kind_is_refused(lead_client):
    response = upload(lead_client, kind="secrets")

    assert response.status_code == 400
    assert "kind" in response.context["form"].errors


def test_a_running_job_polls_and_shows_rows_done_of_the_total(lead_client):
    # given
    job = job_with(state=ImportJob.State.RUNNING)
    imports._publish_progress(job.pk, "importing", 500, 2000)

    # when
    response = lead_client.get(reverse("tickets:import_job_progress", args=[job.pk]))

    # then
    html = response.content.decode()
    assert 'hx-trigger="every 1s"' in html
    assert reverse("tickets:import_job_progress", args=[job.pk]) in html
    assert "Importing: 500 / 2000 rows." in html
    assert response.context["percent"] == 25


def test_a_job_still_checking_shows_the_rows_checked(lead_client):
    job = job_with(state=ImportJob.State.RUNNING)
    imports._publish_progress(job.pk, "checking", 7000, 0)

    response = lead_client.get(reverse("tickets:import_job_progress", args=[job.pk]))

    assert "Checking rows: 7000 checked so far." in response.content.decode()


def test_a_finished_job_stops_polling_and_lists_its_problems(lead_client):
    job = job_with(
        state=ImportJob.State.FAILED,
        invalid_rows=1,
        errors=["line 3: email: not a valid email address"],
        finished_at="2024-01-01T00:00:00Z",
    )

    response = lead_client.get(reverse("tickets:import_job_progress", args=[job.pk]))

    html = response.content.decode()
    assert "hx-trigger" not in html
    assert 'data-testid="import-bar"' not in html
    assert "line 3: email: not a valid email address" in html
    assert "Nothing was imported" in html


def test_problems_are_shown_a_page_at_a_time(lead_client):
    job = job_with(
        state=ImportJob.State.FAILED,
        errors=[f"line {n}: email: not a valid email address" for n in range(2, 252)],
        finished_at="2024-01-01T00:00:00Z",
    )

    response = lead_client.get(reverse("tickets:import_job", args=[job.pk]), {"page": 3})

    shown = list(response.context["errors"])
    assert shown[0] == "line 202: email: not a valid email address"
    assert len(shown) == 50
    assert "Page 3 of 3" in response.content.decode()


def test_a_missing_job_is_not_found(lead_client):
    assert lead_client.get(reverse("tickets:import_job", args=[999])).status_code == 404


@pytest.mark.parametrize("error_count", [1, 1000])
def test_the_job_page_query_count_does_not_grow_with_problems(
    lead_client, django_assert_max_num_queries, error_count
):
    job = job_with(
        state=ImportJob.State.FAILED,
        errors=["line 2: email: required"] * error_count,
        finished_at="2024-01-01T00:00:00Z",
    )

    with django_assert_max_num_queries(4):
        response = lead_client.get(reverse("tickets:import_job", args=[job.pk]))

    assert response.status_code == 200


def test_the_upload_page_query_count_does_not_grow_with_jobs(
    lead_client, lead, django_assert_max_num_queries
):
    for _ in range(15):
        job_with(created_by=lead)

    with django_assert_max_num_queries(4):
        response = lead_client.get(reverse("tickets:import_upload"))

    assert len(response.context["jobs"]) == 15
