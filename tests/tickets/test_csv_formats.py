import io

import pandas as pd
import pytest

from tickets import csv_formats
from tickets.csv_formats import CUSTOMERS, PURCHASES, TICKETS, CsvFileError


def read(text: str, csv_format=CUSTOMERS, chunk_rows: int = 1000) -> list[pd.DataFrame]:
    source = io.BytesIO(text.encode())
    return list(csv_formats.read_chunks(source, csv_format, chunk_rows=chunk_rows))


def problems_of(csv_format, text: str) -> list[str]:
    (chunk,) = read(text, csv_format)
    _, problems = csv_formats.validate(csv_format, chunk)
    return csv_formats.error_texts(problems)


def test_records_are_indexed_by_the_physical_line_they_start_on():
    text = 'external_id,email,name\nC1,a@example.com,"two\nlines"\n\nC2,b@example.com,  Bob  \n'

    (chunk,) = read(text)

    assert chunk.index.tolist() == [2, 5]
    assert chunk.loc[2, "name"] == "two\nlines"
    assert chunk.loc[5, "name"] == "Bob"


def test_line_numbers_continue_across_chunks():
    text = "external_id,email\n" + "".join(f'C{n},"x\n{n}@example.com"\n' for n in range(5))

    chunks = read(text, chunk_rows=2)

    assert [chunk.index.tolist() for chunk in chunks] == [[2, 4], [6, 8], [10]]


def test_a_byte_order_mark_is_not_part_of_the_first_column_name():
    (chunk,) = read("\ufeffexternal_id,email\nC1,a@example.com\n")

    assert list(chunk.columns) == ["external_id", "email"]


def test_missing_required_columns_are_one_error_naming_them_all():
    with pytest.raises(CsvFileError) as error:
        read("order_id,amount\nO1,3\n", PURCHASES)

    assert str(error.value) == (
        "line 1: header: missing required columns: customer_external_id, ordered_at"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "line 1: header: the file is empty"),
        (b"external_id,email\n\xff\xfe,x\n", "the file is not UTF-8 text"),
        (b'external_id,email\nC1,"a@example.com\n', "the file is not valid CSV"),
    ],
)
def test_unreadable_files_raise_a_clear_error(content, message):
    with pytest.raises(CsvFileError, match=message):
        list(csv_formats.read_chunks(io.BytesIO(content), CUSTOMERS, chunk_rows=10))


def test_a_header_name_holding_a_nul_character_is_refused():
    with pytest.raises(CsvFileError) as error:
        read("external_id,email,a\x00b\nC1,a@example.com,x\n")

    assert str(error.value) == f"line 1: header: the name of column 3 {csv_formats.NUL_IN_CELL}"


@pytest.mark.parametrize(
    ("header", "repeated"),
    [
        ("external_id,email,email ", "email"),
        ("external_id,email, email", "email"),
        ("external_id,email,x,x ", "x"),
        ("external_id,email,email", "email"),
    ],
)
def test_a_column_named_twice_even_after_trimming_is_refused(header, repeated):
    with pytest.raises(CsvFileError) as error:
        read(f"{header}\nC1,a@example.com\n")

    assert str(error.value) == f"line 1: header: columns given more than once: {repeated}"


@pytest.mark.parametrize(
    "text",
    [
        "external_id,email\nC1,a@example.com,extra\nC2,b@example.com\n",
        "external_id,email\nC1,a@example.com,\nC2,b@example.com,\n",
    ],
)
def test_a_first_record_with_more_cells_than_the_header_is_refused_like_later_ones(text):
    with pytest.raises(CsvFileError) as error:
        read(text)

    assert str(error.value) == (
        "the file is not valid CSV: Error tokenizing data. "
        "C error: Expected 2 fields in line 2, saw 3"
    )


def test_a_blank_first_line_is_a_header_without_the_required_columns():
    with pytest.raises(CsvFileError) as error:
        read("\nexternal_id,email\nC1,a@example.com\n")

    assert str(error.value) == "line 1: header: missing required columns: external_id, email"


CUSTOMER_HEADER = "external_id,email,name,age,gender,signup_date,country,tags\n"
PURCHASE_HEADER = "order_id,customer_external_id,ordered_at,amount,currency,quantity\n"
TICKET_HEADER = (
    "external_id,customer_external_id,subject,channel,status,priority,"
    "created_at,first_response_at,solved_at\n"
)


@pytest.mark.parametrize(
    ("csv_format", "text", "expected"),
    [
        (
            CUSTOMERS,
            CUSTOMER_HEADER + "C1,ok@example.com,,,,,,\nC2,not-an-email,,,,,,\n",
            "line 3: email: not a valid email address",
        ),
        (
            CUSTOMERS,
            CUSTOMER_HEADER + "C1,a@example.com,,,,2024-02-30,,\n",
            "line 2: signup_date: not an ISO 8601 date or date-time",
        ),
        (
            CUSTOMERS,
            CUSTOMER_HEADER + "C1,a@example.com,,thirty,,,,\n",
            "line 2: age: not a whole number",
        ),
        (
            CUSTOMERS,
            CUSTOMER_HEADER + "C1,a@example.com,,31.5,,,,\n",
            "line 2: age: not a whole number",
        ),
        (
            CUSTOMERS,
            CUSTOMER_HEADER + "C1,a@example.com,,151,,,,\n",
            "line 2: age: must be at most 150",
        ),
        (
            CUSTOMERS,
            CUSTOMER_HEADER + "C1,a@example.com,,,robot,,,\n",
            "line 2: gender: must be one of: female, male, other",
        ),
        (
            CUSTOMERS,
            CUSTOMER_HEADER + "C1,a@example.com,,,,,Germany,\n",
            "line 2: country: not a 2-letter country code",
        ),
        (
            CUSTOMERS,
            CUSTOMER_HEADER + "C1,a@example.com,,,,,," + "x" * 51 + "\n",
            "line 2: tags: a tag is too long",
        ),
        (
            CUSTOMERS,
            CUSTOMER_HEADER + ",a@example.com,,,,,,\n",
            "line 2: external_id: required",
        ),
        (
            CUSTOMERS,
            CUSTOMER_HEADER + "C1,,,,,,,\n",
            "line 2: email: required",
        ),
        (
            PURCHASES,
            PURCHASE_HEADER + "O1,C1,2024-01-05,-3.00,EUR,1\n",
            "line 2: amount: must not be negative",
        ),
        (
            PURCHASES,
            PURCHASE_HEADER + "O1,C1,2024-01-05,12;50,EUR,1\n",
            "line 2: amount: not a number",
        ),
        (
            PURCHASES,
            PURCHASE_HEADER + "O1,C1,2024-01-05,1.005,EUR,1\n",
            "line 2: amount: more than 2 decimals",
        ),
        (
            PURCHASES,
            PURCHASE_HEADER + "O1,C1,yesterday,1,EUR,1\n",
            "line 2: ordered_at: not an ISO 8601 date or date-time",
        ),
        (
            PURCHASES,
            PURCHASE_HEADER + "O1,C1,,1,EUR,1\n",
            "line 2: ordered_at: required",
        ),
        (
            PURCHASES,
            PURCHASE_HEADER + "O1,C1,2024-01-05,1,euro,1\n",
            "line 2: currency: not a 3-letter currency code",
        ),
        (
            PURCHASES,
            PURCHASE_HEADER + "O1,C1,2024-01-05,1,EUR,0\n",
            "line 2: quantity: must be at least 1",
        ),
        (
            TICKETS,
            TICKET_HEADER + "T1,C1,Hi,fax,,,2024-01-05,,\n",
            "line 2: channel: must be one of: email, web, chat, phone, social, api",
        ),
        (
            TICKETS,
            TICKET_HEADER + "T1,C1,Hi,,done,,2024-01-05,,\n",
            "line 2: status: must be one of: new, open, pending, on_hold, solved, closed",
        ),
        (
            TICKETS,
            TICKET_HEADER + "T1,C1,Hi,,,asap,2024-01-05,,\n",
            "line 2: priority: must be one of: low, normal, high, urgent",
        ),
        (
            TICKETS,
            TICKET_HEADER + "T1,C1,,,,,2024-01-05,,\n",
            "line 2: subject: required",
        ),
        (
            TICKETS,
            TICKET_HEADER + "T1,C1,Hi,,,,2024-01-05T10:00:00Z,2024-01-05T09:00:00Z,\n",
            "line 2: first_response_at: before created_at",
        ),
    ],
)
def test_each_bad_cell_is_reported_with_its_line_and_column(csv_format, text, expected):
    assert problems_of(csv_format, text) == [expected]


def test_problems_are_listed_by_line_then_by_column_order():
    text = CUSTOMER_HEADER + "C1,bad,,-1,robot,,,\n,a@example.com,,,,,,\n"

    assert problems_of(CUSTOMERS, text) == [
        "line 2: email: not a valid email address",
        "line 2: age: must be at least 0",
        "line 2: gender: must be one of: female, male, other",
        "line 3: external_id: required",
    ]


def test_clean_cells_are_parsed_into_values():
    text = CUSTOMER_HEADER + "C1,Ann@Example.com,Ann,34,Female,2023-01-05T23:30:00-02:00,de,a;b\n"
    (chunk,) = read(text)

    parsed, problems = csv_formats.validate(CUSTOMERS, chunk)

    assert problems.empty
    row = parsed.loc[2]
    assert row["email"] == "Ann@Example.com"
    assert row["age"] == 34
    assert row["gender"] == "female"
    assert str(row["signup_date"]) == "2023-01-06"  # 23:30 at -02:00 is the next day in UTC
    assert row["country"] == "DE"


def test_dates_may_be_dates_or_date_times_and_naive_ones_are_utc():
    values = csv_formats.date_time(
        pd.Series(["2024-01-05", "2024-01-05T10:00:00", "2024-01-05T10:00:00+02:00", ""])
    ).values

    assert [str(v) for v in values] == [
        "2024-01-05 00:00:00+00:00",
        "2024-01-05 10:00:00+00:00",
        "2024-01-05 08:00:00+00:00",
        "NaT",
    ]


def test_a_date_pandas_reads_outside_years_1_to_9999_is_a_problem():
    # 23:00 at -05:00 on the last day of 9999 is in the year 10000 in UTC.
    text = "external_id,email,signup_date\nC1,a@example.com,-3\n"
    text += "C2,b@example.com,9999-12-31T23:00:00-05:00\n"

    assert problems_of(CUSTOMERS, text) == [
        "line 2: signup_date: a year outside 1-9999",
        "line 3: signup_date: a year outside 1-9999",
    ]


def test_a_cell_holding_a_nul_character_is_a_problem_and_its_key_stays_usable():
    (chunk,) = read("external_id,email,self\nC\x001,a@example.com,x\x00\n")

    parsed, problems = csv_formats.validate(CUSTOMERS, chunk)

    assert csv_formats.error_texts(problems) == [
        f"line 2: external_id: {csv_formats.NUL_IN_CELL}",
        f"line 2: self: {csv_formats.NUL_IN_CELL}",
    ]
    assert parsed.loc[2, "external_id"] == "C\ufffd1"


def test_unknown_customer_columns_are_kept_as_custom_fields_and_ignored_elsewhere():
    (customers,) = read("external_id,email,vip_level\nC1,a@example.com,gold\n")
    (purchases,) = read(
        PURCHASE_HEADER.strip() + ",coupon\nO1,C1,2024-01-05,1,EUR,1,X\n", PURCHASES
    )

    parsed_customers, _ = csv_formats.validate(CUSTOMERS, customers)
    parsed_purchases, _ = csv_formats.validate(PURCHASES, purchases)

    assert parsed_customers.loc[2, "vip_level"] == "gold"
    assert "coupon" not in parsed_purchases.columns


def test_tags_are_split_trimmed_lower_cased_and_deduplicated_per_row():
    cells = pd.Series(["VIP; beta ;vip", "", "solo"], index=[2, 3, 4])

    tags = csv_formats.split_tags(cells)

    assert sorted(zip(tags.index, tags, strict=True)) == [(2, "beta"), (2, "vip"), (4, "solo")]


def test_repeated_keys_name_the_line_of_their_first_occurrence():
    keys = pd.Series(["A", "B", "A", "", "", "A"], index=[2, 3, 9, 10, 11, 14])

    problems = csv_formats.duplicates(keys, "order_id")

    assert csv_formats.error_texts(problems) == [
        "line 9: order_id: duplicate of line 2",
        "line 14: order_id: duplicate of line 2",
    ]


def test_unique_email_keys_ignore_case_and_external_ids_do_not():
    (chunk,) = read("external_id,email\nC1,Ann@Example.com\nc1,ann@example.com\n")

    keys = csv_formats.unique_keys(CUSTOMERS, chunk)

    assert keys["email"].tolist() == ["ann@example.com", "ann@example.com"]
    assert keys["external_id"].tolist() == ["C1", "c1"]
