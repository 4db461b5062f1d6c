from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tickets.models import Customer

pytestmark = pytest.mark.django_db

CUSTOMERS_CSV = "external_id,email,name\nC1,ann@example.com,Ann\nC2,bob@example.com,Bob\n"


@pytest.fixture
def csv_file(tmp_path):
    def write(text: str):
        path = tmp_path / "data.csv"
        path.write_text(text)
        return str(path)

    return write


def import_data(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_data", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_clean_file_is_imported_with_progress_and_a_summary(csv_file):
    out, err = import_data("customers", csv_file(CUSTOMERS_CSV))

    assert out.splitlines() == [
        "checking: 2 rows",
        "importing: 2/2 rows",
        "customers: 2 rows, created=2 updated=0 invalid=0",
    ]
    assert err == ""
    assert Customer.objects.count() == 2


def test_importing_the_same_file_again_updates_instead_of_duplicating(csv_file):
    path = csv_file(CUSTOMERS_CSV)
    import_data("customers", path)

    out, _ = import_data("customers", path)

    assert "created=0 updated=2 invalid=0" in out
    assert Customer.objects.count() == 2


def test_a_file_with_errors_fails_lists_them_and_imports_nothing(csv_file):
    path = csv_file(CUSTOMERS_CSV + "C3,not-an-email,Cat\nC1,cat@example.com,Cat\n")
    err = StringIO()

    with pytest.raises(CommandError, match="nothing was imported") as failure:
        call_command("import_data", "customers", path, stdout=StringIO(), stderr=err)

    assert failure.value.returncode == 1
    assert err.getvalue().splitlines() == [
        "line 4: email: not a valid email address",
        "line 5: external_id: duplicate of line 2",
    ]
    assert not Customer.objects.exists()


def test_skip_invalid_imports_the_valid_rows_and_reports_the_rest(csv_file):
    path = csv_file(CUSTOMERS_CSV + "C3,not-an-email,Cat\n")

    out, err = import_data("customers", path, "--skip-invalid")

    assert "customers: 3 rows, created=2 updated=0 invalid=1" in out
    assert err.splitlines() == ["line 4: email: not a valid email address"]
    assert sorted(Customer.objects.values_list("external_id", flat=True)) == ["C1", "C2"]


def test_a_file_missing_required_columns_fails_even_when_skipping_invalid_rows(csv_file):
    with pytest.raises(CommandError):
        import_data("purchases", csv_file("order_id,amount\nO1,5\n"), "--skip-invalid")


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match=r"cannot open .*nope\.csv: No such file"):
        import_data("customers", str(tmp_path / "nope.csv"))


def test_an_unknown_kind_is_refused(csv_file):
    with pytest.raises(CommandError, match="invalid choice: 'secrets'"):
        import_data("secrets", csv_file(CUSTOMERS_CSV))
