import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile

from helpdesk.models import AuditLog
from tests.factories import CustomerFactory, OrganisationFactory
from tickets import csv_formats, services, tasks
from tickets.models import Customer, ImportJob, Message, Organisation, Purchase, Ticket
from tickets.services import imports

# Live progress lives in the cache, keyed by job id; ids repeat between tests.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_cache")]

CUSTOMERS_CSV = (
    "external_id,email,name,phone,company,country,city,language,age,gender,signup_date,plan,"
    "tags,vip_level\n"
    "C1,ann@example.com,Ann Lee,+49 30 1,Acme,de,Berlin,de,34,female,2023-01-05,pro,"
    "VIP; beta,gold\n"
    "C2,bob@example.com,Bob Roe,,ACME,FR,Paris,fr,,male,2023-02-01T10:00:00Z,basic,,\n"
)
PURCHASES_CSV = (
    "order_id,customer_external_id,ordered_at,amount,currency,product,category,quantity\n"
    "O1,C1,2024-01-05T10:00:00+02:00,10.50,usd,Widget,widgets,2\n"
    "O2,C2,2024-01-06,0,,,,\n"
)
TICKETS_CSV = (
    "external_id,customer_external_id,subject,body,channel,status,priority,created_at,"
    "first_response_at,solved_at,tags\n"
    'T1,C1,Broken widget,"It broke.\nTwice.",web,closed,high,2024-01-01,2024-01-02,'
    "2024-01-03,billing;Urgent\n"
    "T2,C2,Question,,,,,2024-02-01T09:30:00Z,,,\n"
)


def run(kind: str, text: str, **options) -> imports.ImportResult:
    return services.import_csv(kind=kind, source=io.BytesIO(text.encode()), **options)


@pytest.fixture
def customers_imported():
    assert run("customers", CUSTOMERS_CSV).written


def test_a_clean_customers_file_creates_every_customer_with_all_fields():
    # when
    result = run("customers", CUSTOMERS_CSV)

    # then
    assert (result.total_rows, result.created, result.updated, result.errors) == (2, 2, 0, [])
    ann = Customer.objects.get(external_id="C1")
    assert ann.email == "ann@example.com"
    assert (ann.name, ann.phone, ann.country, ann.city, ann.language) == (
        "Ann Lee",
        "+49 30 1",
        "DE",
        "Berlin",
        "de",
    )
    assert (ann.age, ann.gender, ann.plan) == (34, "female", "pro")
    assert ann.signup_date == date(2023, 1, 5)
    assert ann.custom_fields == {"vip_level": "gold"}
    assert sorted(ann.tags.values_list("name", flat=True)) == ["beta", "vip"]
    bob = Customer.objects.get(external_id="C2")
    assert bob.signup_date == date(2023, 2, 1)
    assert bob.age is None
    assert bob.custom_fields == {}
    assert not bob.tags.exists()


def test_company_names_find_or_create_one_organisation_ignoring_case():
    existing = OrganisationFactory(name="acme")

    run("customers", CUSTOMERS_CSV)

    assert Organisation.objects.count() == 1
    assert set(Customer.objects.values_list("organisation", flat=True)) == {existing.pk}


def test_reimporting_customers_updates_them_and_never_duplicates(customers_imported):
    # given
    changed = CUSTOMERS_CSV.replace("Ann Lee", "Ann Lee-Smith").replace("VIP; beta", "gold")

    # when
    result = run("customers", changed)

    # then
    assert (result.created, result.updated) == (0, 2)
    assert Customer.objects.count() == 2
    ann = Customer.objects.get(external_id="C1")
    assert ann.name == "Ann Lee-Smith"
    assert list(ann.tags.values_list("name", flat=True)) == ["gold"]


def test_columns_left_out_of_a_reimport_keep_their_stored_values(customers_imported):
    result = run("customers", "external_id,email,plan\nC1,ann@example.com,enterprise\n")

    assert (result.created, result.updated) == (0, 1)
    ann = Customer.objects.get(external_id="C1")
    assert ann.plan == "enterprise"
    assert (ann.name, ann.age, ann.custom_fields) == ("Ann Lee", 34, {"vip_level": "gold"})
    assert ann.organisation is not None
    assert sorted(ann.tags.values_list("name", flat=True)) == ["beta", "vip"]


def test_custom_field_columns_merge_into_stored_fields_and_empty_cells_remove_them(
    customers_imported,
):
    Customer.objects.filter(external_id="C1").update(
        custom_fields={"vip_level": "gold", "source": "crm"}
    )

    run("customers", "external_id,email,vip_level,region\nC1,ann@example.com,,north\n")

    ann = Customer.objects.get(external_id="C1")
    assert ann.custom_fields == {"source": "crm", "region": "north"}


def test_a_customer_known_only_by_email_is_adopted_by_the_row_with_their_address():
    walk_in = CustomerFactory(email="Ann@Example.com", external_id=None)

    result = run("customers", CUSTOMERS_CSV)

    assert (result.created, result.updated) == (1, 1)
    walk_in.refresh_from_db()
    assert walk_in.external_id == "C1"
    assert walk_in.name == "Ann Lee"


def test_an_address_of_another_customer_is_an_error_for_that_row():
    CustomerFactory(email="bob@example.com", external_id="OTHER")

    result = run("customers", CUSTOMERS_CSV)

    assert result.errors == ["line 3: email: already used by another customer"]
    assert not result.written
    assert not Customer.objects.filter(external_id__in=["C1", "C2"]).exists()


def test_the_same_address_twice_in_a_file_is_an_error_on_the_second_line():
    text = "external_id,email\nC1,ann@example.com\nC2,ANN@example.com\n"

    result = run("customers", text)

    assert result.errors == ["line 3: email: duplicate of line 2"]


def test_a_clean_purchases_file_links_each_purchase_to_its_customer(customers_imported):
    result = run("purchases", PURCHASES_CSV)

    assert (result.created, result.updated, result.errors) == (2, 0, [])
    first = Purchase.objects.get(order_id="O1")
    assert first.customer.external_id == "C1"
    assert first.ordered_at == datetime(2024, 1, 5, 8, 0, tzinfo=UTC)
    assert (first.amount, first.currency, first.quantity) == (Decimal("10.50"), "USD", 2)
    assert (first.product, first.category) == ("Widget", "widgets")
    second = Purchase.objects.get(order_id="O2")
    assert (second.amount, second.currency, second.quantity) == (Decimal("0.00"), "EUR", 1)


def test_reimporting_purchases_updates_them_by_order_id(customers_imported):
    run("purchases", PURCHASES_CSV)

    result = run("purchases", PURCHASES_CSV.replace("10.50", "12.00"))

    assert (result.created, result.updated) == (0, 2)
    assert Purchase.objects.count() == 2
    assert Purchase.objects.get(order_id="O1").amount == Decimal("12.00")


def test_an_unknown_customer_is_an_error_for_that_row(customers_imported):
    text = PURCHASES_CSV + "O3,C404,2024-01-07,5,,,,\n"

    result = run("purchases", text)

    assert result.errors == ["line 4: customer_external_id: no customer with this external_id"]
    assert not Purchase.objects.exists()


def test_a_clean_tickets_file_creates_historical_tickets_with_their_first_message(
    customers_imported,
):
    # when
    result = run("tickets", TICKETS_CSV)

    # then
    assert (result.created, result.updated, result.errors) == (2, 0, [])
    ticket = Ticket.objects.get(external_id="T1")
    assert ticket.customer.external_id == "C1"
    assert (ticket.subject, ticket.channel, ticket.status, ticket.priority) == (
        "Broken widget",
        "web",
        "closed",
        "high",
    )
    assert ticket.created_at == datetime(2024, 1, 1, tzinfo=UTC)
    assert ticket.first_response_at == datetime(2024, 1, 2, tzinfo=UTC)
    assert (
        ticket.solved_at
        == ticket.closed_at
        == ticket.updated_at
        == datetime(2024, 1, 3, tzinfo=UTC)
    )
    assert ticket.routed_at is not None
    assert ticket.search_document == "Broken widget\nIt broke.\nTwice."
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["billing", "urgent"]
    (message,) = ticket.messages.all()
    assert (message.kind, message.body_text, message.created_at) == (
        Message.Kind.INBOUND,
        "It broke.\nTwice.",
        ticket.created_at,
    )
    plain = Ticket.objects.get(external_id="T2")
    assert (plain.channel, plain.status, plain.priority) == ("email", "new", "normal")
    assert plain.closed_at is None


def test_a_tickets_file_with_only_the_required_columns_takes_the_defaults(customers_imported):
    text = "external_id,customer_external_id,subject,created_at\nT9,C1,Hello,2024-03-01\n"

    result = run("tickets", text)

    assert (result.created, result.errors) == (1, [])
    ticket = Ticket.objects.get(external_id="T9")
    assert (ticket.channel, ticket.status, ticket.priority) == ("email", "new", "normal")
    assert (ticket.solved_at, ticket.closed_at) == (None, None)


def test_reimporting_tickets_updates_fields_and_first_message_without_new_messages(
    customers_imported,
):
    # given
    run("tickets", TICKETS_CSV)
    ticket = Ticket.objects.get(external_id="T1")
    Message.objects.create(
        ticket=ticket,
        kind=Message.Kind.OUTBOUND,
        body_text="We fixed it.",
        created_at=ticket.solved_at,
    )
    changed = TICKETS_CSV.replace("Broken widget", "Widget broken").replace("Twice.", "Thrice.")

    # when
    result = run("tickets", changed)

    # then
    assert (result.created, result.updated) == (0, 2)
    assert Ticket.objects.count() == 2
    ticket.refresh_from_db()
    assert ticket.subject == "Widget broken"
    assert list(ticket.messages.values_list("body_text", flat=True)) == [
        "It broke.\nThrice.",
        "We fixed it.",
    ]
    assert ticket.search_document == "Widget broken\nIt broke.\nThrice.\nWe fixed it."


def test_a_file_with_errors_imports_nothing_by_default(customers_imported):
    text = PURCHASES_CSV + "O3,C1,2024-01-07,-5,,,,\n"

    result = run("purchases", text)

    assert not result.written
    assert (result.created, result.updated, result.invalid_rows) == (0, 0, 1)
    assert result.errors == ["line 4: amount: must not be negative"]
    assert not Purchase.objects.exists()


def test_a_cell_holding_a_nul_character_is_a_problem_on_its_line():
    text = "external_id,email,name,vip_level\nC1,ann@example.com,Ann\x00Lee,gold\n"
    text += "C2,bob@example.com,Bob,si\x00lver\n"

    result = run("customers", text)

    assert not result.written
    assert result.errors == [
        f"line 2: name: {csv_formats.NUL_IN_CELL}",
        f"line 3: vip_level: {csv_formats.NUL_IN_CELL}",
    ]
    assert not Customer.objects.exists()


def test_skip_invalid_imports_the_valid_rows_and_reports_the_rest(customers_imported):
    text = PURCHASES_CSV + "O3,C1,2024-01-07,-5,,,,\nO4,C404,soon,1,,,,\n"

    result = run("purchases", text, skip_invalid=True)

    assert result.written
    assert (result.total_rows, result.created, result.invalid_rows) == (4, 2, 2)
    assert result.errors == [
        "line 4: amount: must not be negative",
        "line 5: customer_external_id: no customer with this external_id",
        "line 5: ordered_at: not an ISO 8601 date or date-time",
    ]
    assert sorted(Purchase.objects.values_list("order_id", flat=True)) == ["O1", "O2"]


def test_skip_invalid_keeps_the_first_of_duplicated_keys(customers_imported):
    text = PURCHASES_CSV + "O1,C2,2024-01-07,99,,,,\n"

    result = run("purchases", text, skip_invalid=True)

    assert result.errors == ["line 4: order_id: duplicate of line 2"]
    assert Purchase.objects.get(order_id="O1").amount == Decimal("10.50")


def test_duplicates_are_found_across_chunks_with_physical_line_numbers(customers_imported):
    text = TICKETS_CSV + "T3,C1,Again,,,,,2024-03-01,,,\nT1,C2,Copy,,,,,2024-03-02,,,\n"

    result = run("tickets", text, chunk_rows=1)

    # T1's body spans two lines, so the rows start on lines 2, 4, 5 and 6
    assert result.errors == ["line 6: external_id: duplicate of line 2"]


def test_a_missing_required_column_is_one_error_and_nothing_is_read():
    result = run("purchases", "order_id,amount\nO1,5\n")

    assert not result.written
    assert result.errors == [
        "line 1: header: missing required columns: customer_external_id, ordered_at"
    ]


def test_rows_ending_in_a_stray_comma_are_refused_instead_of_shifted_a_column():
    text = "external_id,email,name\nC1,ann@example.com,Ann,\nC2,bob@example.com,Bob,\n"

    result = run("customers", text)

    assert not result.written
    assert result.errors == [
        "the file is not valid CSV: Error tokenizing data. "
        "C error: Expected 3 fields in line 2, saw 4"
    ]
    assert not Customer.objects.exists()


def test_only_the_first_problems_are_kept_and_the_rest_are_counted(monkeypatch):
    monkeypatch.setattr(imports, "MAX_STORED_ERRORS", 2)
    text = "external_id,email\n" + "".join(f"C{n},bad{n}\n" for n in range(5))

    result = run("customers", text)

    assert (result.problem_count, result.invalid_rows) == (5, 5)
    assert result.error_lines() == [
        "line 2: email: not a valid email address",
        "line 3: email: not a valid email address",
        "… and 3 more problems",
    ]


def test_progress_reports_checking_then_importing_every_chunk(customers_imported):
    reports = []

    run("purchases", PURCHASES_CSV, chunk_rows=1, progress=lambda *report: reports.append(report))

    assert reports == [
        ("checking", 1, 0),
        ("checking", 2, 0),
        ("importing", 1, 2),
        ("importing", 2, 2),
    ]


def test_another_app_can_register_an_import_kind(monkeypatch):
    written = []
    kind = imports.ImportKind(
        csv_format=imports.csv_formats.PURCHASES,
        check=lambda rows: imports.csv_formats.problem_rows([], "", ""),
        write=lambda rows, header: written.append(rows["order_id"].tolist()) or (len(rows), 0),
    )
    monkeypatch.setitem(imports.IMPORT_KINDS, "orders", kind)

    result = run("orders", "order_id,customer_external_id,ordered_at,amount\nX1,C9,2024-01-01,1\n")

    assert (result.created, written) == (1, [["X1"]])


def job_for(kind: str, text: str, **options) -> ImportJob:
    return ImportJob.objects.create(
        kind=kind, file=ContentFile(text.encode(), name=f"{kind}.csv"), **options
    )


def test_starting_a_job_runs_it_after_commit_and_records_the_outcome(
    lead, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        job = services.start_import_job(
            kind="customers",
            file=ContentFile(CUSTOMERS_CSV.encode(), name="customers.csv"),
            skip_invalid=False,
            created_by=lead,
        )

    # then
    job.refresh_from_db()
    assert job.state == ImportJob.State.SUCCEEDED
    assert (job.total_rows, job.processed_rows, job.created_count, job.updated_count) == (
        2,
        2,
        2,
        0,
    )
    assert job.finished_at is not None
    assert job.percent == 100
    assert AuditLog.objects.filter(action="import_finished", target_id=job.pk).exists()


def test_a_job_with_errors_fails_and_keeps_its_problems():
    job = job_for("customers", "external_id,email\nC1,nope\n")

    services.run_import_job(job_id=job.pk)

    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED
    assert (job.invalid_rows, job.processed_rows) == (1, 0)
    assert job.errors == ["line 2: email: not a valid email address"]
    assert not Customer.objects.exists()


def test_a_finished_job_is_not_run_again():
    job = job_for("customers", CUSTOMERS_CSV)
    services.run_import_job(job_id=job.pk)
    Customer.objects.all().delete()

    services.run_import_job(job_id=job.pk)

    job.refresh_from_db()
    assert job.created_count == 2
    assert not Customer.objects.exists()


def test_a_job_another_worker_has_claimed_is_left_alone():
    job = job_for("customers", CUSTOMERS_CSV, state=ImportJob.State.RUNNING)

    services.run_import_job(job_id=job.pk)

    job.refresh_from_db()
    assert (job.state, job.finished_at) == (ImportJob.State.RUNNING, None)
    assert not Customer.objects.exists()


def test_live_progress_of_a_running_job_comes_from_the_import_in_progress():
    job = job_for("customers", CUSTOMERS_CSV, state=ImportJob.State.RUNNING)

    before = imports.live_progress(job)
    imports._publish_progress(job.pk, "importing", 500, 2000)

    assert before == ("checking", 0, 0)
    assert imports.live_progress(job) == ("importing", 500, 2000)


def test_imported_tickets_are_marked_routed_and_no_routing_is_enqueued(
    customers_imported, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(tasks.route_ticket_task, "delay", lambda *args: sent.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        run("tickets", TICKETS_CSV)

    assert sent == []
    assert not Ticket.objects.filter(routed_at__isnull=True).exists()
