"""Property: whatever CSV file is uploaded, the import answers with a result (the rows written,
or problems that each name their line or the file) and never raises.

Files are drawn from each format's own columns in any order and subset, the same names padded
with blanks (so a header may repeat a column once trimmed), plus columns of any name, with cells
of any text (NUL included), plausible values, ragged rows and plain garbage bytes. Bounded for
the normal suite; ``CSV_FUZZ_EXAMPLES=3000`` (per kind) for a long run.
"""

import csv
import io
import os

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tickets import services
from tickets.services.imports import IMPORT_KINDS

EXAMPLES_PER_KIND = int(os.environ.get("CSV_FUZZ_EXAMPLES", "60"))
PLAUSIBLE_CELLS = [
    "", "C1", "C2", "ann@example.com", "not an address", "2024-01-05",
    "2024-01-05T10:30:00+02:00", "yesterday", "12.50", "-3", "2", "1e400", "NaN", "closed",
    "high", "web", "de", "EUR", "vip; beta", "Acme", " padded ", "line\nbreak",
]  # fmt: skip
ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
CELLS = st.one_of(st.sampled_from(PLAUSIBLE_CELLS), ANY_TEXT)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_cache")]


@st.composite
def csv_files(draw, kind: str) -> bytes:
    csv_format = IMPORT_KINDS[kind].csv_format
    known = st.sampled_from(csv_format.column_names)
    padded = known.flatmap(lambda name: st.sampled_from([f" {name}", f"{name} ", f"\t{name}\t"]))
    names = st.one_of(known, padded, ANY_TEXT)  # extras: any name
    chosen = draw(st.lists(names, unique=True))
    required = [] if draw(st.integers(0, 9)) == 0 else list(csv_format.required_columns)
    header = draw(st.permutations(list(dict.fromkeys(required + chosen))))
    width = st.integers(max(len(header) - 1, 0), len(header) + 1)  # some rows ragged
    rows = draw(st.lists(width.flatmap(lambda n: st.lists(CELLS, min_size=n, max_size=n))))
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue().encode()


def files_for(kind: str):
    return st.one_of(csv_files(kind), st.binary(max_size=200))


@pytest.fixture
def known_customers():
    """Customers C1 and C2, for the purchases and tickets that name them."""
    text = "external_id,email,name\nC1,ann@example.com,Ann\nC2,bob@example.com,Bob\n"
    assert services.import_csv(kind="customers", source=io.BytesIO(text.encode())).written


@pytest.mark.parametrize("kind", sorted(IMPORT_KINDS))
def test_any_file_gets_an_answer_and_never_raises(kind, known_customers):
    @given(raw=files_for(kind), skip_invalid=st.booleans())
    @settings(
        max_examples=EXAMPLES_PER_KIND,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def answers(raw, skip_invalid):
        with transaction.atomic():
            result = services.import_csv(
                kind=kind, source=io.BytesIO(raw), skip_invalid=skip_invalid
            )
            transaction.set_rollback(True)  # each file against the same two customers

        assert result.written or result.errors
        assert all(error.startswith(("line ", "the file")) for error in result.errors), (
            result.errors
        )

    answers()
