"""CSV imports on PostgreSQL: the COPY + INSERT ... ON CONFLICT path, and an uploaded file run
by a real Celery worker."""

import io
from decimal import Decimal

from django.core.files.base import ContentFile

from tickets import services
from tickets.models import Customer, ImportJob, Purchase, Ticket

CUSTOMERS_CSV = (
    "external_id,email,name,company,tags,vip_level\n"
    "C1,ann@example.com,Ann,Acme,vip;beta,gold\n"
    "C2,bob@example.com,Bob,,,\n"
)
PURCHASES_CSV = (
    "order_id,customer_external_id,ordered_at,amount,currency,product,category,quantity\n"
    "O1,C1,2024-01-05T10:00:00+02:00,10.50,,Widget,,2\n"
    "O2,C2,2024-01-06,0,USD,,,\n"
)
TICKETS_CSV = (
    "external_id,customer_external_id,subject,body,status,created_at,solved_at,tags\n"
    'T1,C1,Broken,"It broke.\nTwice.",closed,2024-01-01,2024-01-03,billing\n'
)


def run(kind: str, text: str) -> services.imports.ImportResult:
    return services.import_csv(kind=kind, source=io.BytesIO(text.encode()))


def test_copy_upserts_create_then_update_every_kind(postgres, db):
    # when
    first = [run(kind, text) for kind, text in _files()]
    again = [run(kind, text.replace("Ann", "Ann Lee")) for kind, text in _files()]

    # then
    assert [(r.created, r.updated, r.errors) for r in first] == [(2, 0, []), (2, 0, []), (1, 0, [])]
    assert [(r.created, r.updated) for r in again] == [(0, 2), (0, 2), (0, 1)]
    ann = Customer.objects.get(external_id="C1")
    assert (ann.name, ann.organisation.name, ann.custom_fields) == (
        "Ann Lee",
        "Acme",
        {"vip_level": "gold"},
    )
    assert sorted(ann.tags.values_list("name", flat=True)) == ["beta", "vip"]
    assert Customer.objects.get(external_id="C2").name == "Bob"  # empty text, not NULL
    purchase = Purchase.objects.get(order_id="O1")
    assert (purchase.amount, purchase.currency, purchase.product, purchase.category) == (
        Decimal("10.50"),
        "EUR",
        "Widget",
        "",
    )
    ticket = Ticket.objects.get(external_id="T1")
    assert ticket.search_document == "Broken\nIt broke.\nTwice."
    assert ticket.closed_at == ticket.solved_at
    assert ticket.messages.count() == 1


def _files():
    return [("customers", CUSTOMERS_CSV), ("purchases", PURCHASES_CSV), ("tickets", TICKETS_CSV)]


def test_an_uploaded_import_is_run_by_the_worker(live_celery, postgres, lead, wait_until):
    # when
    job = services.start_import_job(
        kind="customers",
        file=ContentFile(CUSTOMERS_CSV.encode(), name="customers.csv"),
        skip_invalid=False,
        created_by=lead,
    )

    # then
    finished = wait_until(
        lambda: ImportJob.objects.filter(pk=job.pk, finished_at__isnull=False).first(),
        what="the worker to run the import",
    )
    assert (finished.state, finished.created_count) == (ImportJob.State.SUCCEEDED, 2)
    assert "run_import_job[" in live_celery.log()
    assert Customer.objects.count() == 2
