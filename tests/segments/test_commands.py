import csv
import io

import pytest
from django.core.management import CommandError, call_command

from segments.models import Segmentation, SegmentRun
from tests.factories import CustomerFactory, PurchaseFactory


@pytest.fixture
def buyers(db):
    customers = []
    for n in range(12):
        customer = CustomerFactory(external_id=f"EXT-{n}", email=f"c{n}@example.com")
        PurchaseFactory.create_batch(
            1 + n % 3, customer=customer, amount="10.00", ordered_at="2025-06-01T10:00:00Z"
        )
        customers.append(customer)
    return customers


def test_segment_customers_sync_prints_progress(buyers):
    out = io.StringIO()

    call_command(
        "segment_customers", "--segmentation", "rfm", "--as-of", "2025-06-30", "--sync", stdout=out
    )

    run = Segmentation.objects.get(slug="rfm").current_run
    assert run.state == SegmentRun.State.SUCCEEDED
    assert str(run.as_of) == "2025-06-30"
    text = out.getvalue()
    assert "  5% features" in text and "100% write-back" in text
    assert f"rfm: run #{run.pk} succeeded: 12 customers" in text


def test_segment_customers_queues_runs(buyers, django_capture_on_commit_callbacks):
    out = io.StringIO()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("segment_customers", "--segmentation", "rfm", stdout=out)

    assert "queued" in out.getvalue()
    assert Segmentation.objects.get(slug="rfm").current_run is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--segmentation", "nope"], "No segmentation with the slug 'nope'"),
        (["--as-of", "30/06/2025"], "is not a date like"),
    ],
)
def test_segment_customers_bad_input(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("segment_customers", *args)


def test_export_segments_writes_the_contract_header_and_rows(buyers):
    call_command(
        "segment_customers",
        "--segmentation",
        "rfm",
        "--as-of",
        "2025-06-30",
        "--sync",
        stdout=io.StringIO(),
    )
    out = io.StringIO()

    call_command("export_segments", "--segmentation", "rfm", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0] == (
        "customer_external_id,customer_email,segmentation,segment,"
        "r_score,f_score,m_score,recency_days,frequency,monetary"
    )
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(rows) == 12
    first = next(r for r in rows if r["customer_external_id"] == "EXT-2")
    assert first["customer_email"] == "c2@example.com"
    assert first["segmentation"] == "rfm"
    assert (first["frequency"], first["recency_days"], first["monetary"]) == ("3", "29", "30.00")
    assert first["r_score"] in {"1", "2", "3", "4", "5"}


def test_export_leaves_rfm_columns_empty_for_clustered(db, django_capture_on_commit_callbacks):
    for n in range(40):
        customer = CustomerFactory(external_id=f"E{n}")
        PurchaseFactory.create_batch(1 + n % 4, customer=customer, amount=str(10 + 50 * (n % 4)))
    call_command("segment_customers", "--segmentation", "behaviour", "--sync", stdout=io.StringIO())
    out = io.StringIO()

    call_command("export_segments", stdout=out)

    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(rows) == 40
    assert {r["segmentation"] for r in rows} == {"behaviour"}
    assert all(r["r_score"] == r["monetary"] == "" for r in rows)
