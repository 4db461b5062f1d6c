"""The CSV import formats: reading files in chunks and validating whole columns at once.

Pure functions on pandas objects, no database. A chunk's index is the physical line number of
each record in the file (the header is line 1), so every problem can name its line. Problems
are frames of ``line, column, problem``.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO

import pandas as pd

from tickets.models import Customer, Ticket

EMAIL_PATTERN = r"[^@\s]+@[^@\s]+\.[^@\s.]+"
TAG_SEPARATOR = ";"
PROBLEM_COLUMNS = ["line", "column", "problem"]
# PostgreSQL text cannot hold one; a file full of them is usually UTF-16 read as UTF-8.
NUL_IN_CELL = "contains a NUL character (is the file saved as UTF-8?)"


class CsvFileError(Exception):
    """The file as a whole cannot be read (not CSV, not UTF-8, required columns missing)."""


@dataclass
class Checked:
    """Parsed values of one column and its problems, each a boolean mask and a message."""

    values: pd.Series
    problems: list[tuple[pd.Series, str]] = field(default_factory=list)


Parser = Callable[[pd.Series], Checked]


@dataclass(frozen=True)
class Column:
    name: str
    parse: Parser
    required: bool = False
    # Unique within one file; ``ignore_case`` compares case-folded values.
    unique: bool = False
    ignore_case: bool = False


@dataclass(frozen=True)
class CsvFormat:
    key: str
    columns: tuple[Column, ...]
    # Columns that must be in the header; the other known columns may be left out.
    required_columns: tuple[str, ...]
    # True keeps every unknown column (customers' custom fields); False ignores them.
    keeps_extra_columns: bool = False
    # Checks across columns of the parsed rows, each returning problems.
    row_checks: tuple[Callable[[pd.DataFrame], pd.DataFrame], ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def extra_columns(self, header: list[str]) -> list[str]:
        if not self.keeps_extra_columns:
            return []
        return [name for name in header if name not in self.column_names]


def text(max_length: int) -> Parser:
    def parse(cells: pd.Series) -> Checked:
        too_long = cells.str.len() > max_length
        return Checked(cells, [(too_long, f"longer than {max_length} characters")])

    return parse


def letters(count: int, *, what: str) -> Parser:
    """``count`` ASCII letters, upper-cased (country and currency codes)."""

    def parse(cells: pd.Series) -> Checked:
        invalid = _filled(cells) & ~cells.str.fullmatch(f"[A-Za-z]{{{count}}}")
        return Checked(cells.str.upper(), [(invalid, f"not a {count}-letter {what} code")])

    return parse


def email(cells: pd.Series) -> Checked:
    invalid = _filled(cells) & ~cells.str.fullmatch(EMAIL_PATTERN)
    too_long = cells.str.len() > 254
    return Checked(cells, [(invalid, "not a valid email address"), (too_long, "too long")])


def choice(options: list[str]) -> Parser:
    def parse(cells: pd.Series) -> Checked:
        values = cells.str.lower()
        invalid = _filled(cells) & ~values.isin(options)
        return Checked(values, [(invalid, f"must be one of: {', '.join(options)}")])

    return parse


def date_time(cells: pd.Series) -> Checked:
    """ISO 8601 date or date-time; values without an offset are UTC. Years outside 1-9999
    (which pandas parses, "-3" among them) have no Python date and are refused."""
    values = pd.to_datetime(cells, errors="coerce", format="ISO8601", utc=True)
    out_of_range = values.notna() & ~values.dt.year.between(1, 9999)
    values = values.mask(out_of_range)
    invalid = _filled(cells) & values.isna() & ~out_of_range
    return Checked(
        values,
        [(invalid, "not an ISO 8601 date or date-time"), (out_of_range, "a year outside 1-9999")],
    )


def date(cells: pd.Series) -> Checked:
    checked = date_time(cells)
    days = checked.values.dt.date
    return Checked(days.where(checked.values.notna(), None), checked.problems)


def whole_number(minimum: int, maximum: int) -> Parser:
    def parse(cells: pd.Series) -> Checked:
        numbers = pd.to_numeric(cells, errors="coerce")
        not_whole = _filled(cells) & (numbers.isna() | (numbers % 1 != 0))
        too_small = ~not_whole & (numbers < minimum)
        too_large = ~not_whole & (numbers > maximum)
        usable = ~(not_whole | too_small | too_large)
        return Checked(
            numbers.where(usable).astype("Int64"),
            [
                (not_whole, "not a whole number"),
                (too_small, f"must be at least {minimum}"),
                (too_large, f"must be at most {maximum}"),
            ],
        )

    return parse


def money(cells: pd.Series) -> Checked:
    """A non-negative amount with at most two decimals, kept as text so it stays exact."""
    numbers = pd.to_numeric(cells, errors="coerce")
    not_number = _filled(cells) & numbers.isna()
    too_precise = ~not_number & cells.str.contains(r"\.\d{3,}$")
    return Checked(
        cells,
        [
            (not_number, "not a number"),
            (numbers < 0, "must not be negative"),
            (numbers >= 10**10, "too large"),
            (too_precise, "more than 2 decimals"),
        ],
    )


def tag_list(cells: pd.Series) -> Checked:
    too_long = (split_tags(cells).str.len() > 50).groupby(level=0).any()
    return Checked(cells, [(too_long.reindex(cells.index, fill_value=False), "a tag is too long")])


def split_tags(cells: pd.Series) -> pd.Series:
    """One row per distinct (line, tag): tags separated by ``;``, trimmed, lower-cased."""
    tags = cells.str.split(TAG_SEPARATOR).explode().str.strip().str.lower()
    pairs = tags[tags.notna() & (tags != "")].rename("tag").reset_index().drop_duplicates()
    return pairs.set_index(pairs.columns[0])["tag"]


def _filled(cells: pd.Series) -> pd.Series:
    return cells != ""


def not_before_created_at(rows: pd.DataFrame) -> pd.DataFrame:
    problems = [
        problem_rows(
            rows.index[(rows[name] < rows["created_at"]).to_numpy(bool)], name, "before created_at"
        )
        for name in ("first_response_at", "solved_at")
        if name in rows.columns and "created_at" in rows.columns
    ]
    return pd.concat(problems) if problems else problem_rows([], "", "")


CUSTOMERS = CsvFormat(
    key="external_id",
    required_columns=("external_id", "email"),
    keeps_extra_columns=True,
    columns=(
        Column("external_id", text(100), required=True, unique=True),
        Column("email", email, required=True, unique=True, ignore_case=True),
        Column("name", text(200)),
        Column("phone", text(50)),
        Column("company", text(200)),
        Column("country", letters(2, what="country")),
        Column("city", text(100)),
        Column("language", text(10)),
        Column("age", whole_number(0, 150)),
        Column("gender", choice([g for g in Customer.Gender.values if g])),
        Column("signup_date", date),
        Column("plan", text(50)),
        Column("tags", tag_list),
    ),
)

PURCHASES = CsvFormat(
    key="order_id",
    required_columns=("order_id", "customer_external_id", "ordered_at", "amount"),
    columns=(
        Column("order_id", text(100), required=True, unique=True),
        Column("customer_external_id", text(100), required=True),
        Column("ordered_at", date_time, required=True),
        Column("amount", money, required=True),
        Column("currency", letters(3, what="currency")),
        Column("product", text(200)),
        Column("category", text(100)),
        Column("quantity", whole_number(1, 2_147_483_647)),
    ),
)

TICKETS = CsvFormat(
    key="external_id",
    required_columns=("external_id", "customer_external_id", "subject", "created_at"),
    columns=(
        Column("external_id", text(100), required=True, unique=True),
        Column("customer_external_id", text(100), required=True),
        Column("subject", text(255), required=True),
        Column("body", text(1_000_000)),
        Column("channel", choice(list(Ticket.Channel.values))),
        Column("status", choice(list(Ticket.Status.values))),
        Column("priority", choice(list(Ticket.Priority.values))),
        Column("created_at", date_time, required=True),
        Column("first_response_at", date_time),
        Column("solved_at", date_time),
        Column("tags", tag_list),
    ),
    row_checks=(not_before_created_at,),
)


def read_chunks(
    source: IO[bytes], csv_format: CsvFormat, *, chunk_rows: int
) -> Iterator[pd.DataFrame]:
    """Yield the records in chunks, cells stripped, indexed by the line each starts on.

    ``source`` must be seekable: the header is checked before the first chunk is read.
    Raises CsvFileError when the file cannot be read, its header is unusable or a record has
    more cells than the header.
    """
    options = {
        "dtype": str,
        "keep_default_na": False,
        "encoding": "utf-8-sig",
        # Blank lines keep their line numbers, and a blank line 1 is the header in every read.
        "skip_blank_lines": False,
    }
    try:
        header = _checked_header(source, csv_format, options)
        source.seek(0)
        next_line = 2
        # Without index_col=False pandas takes a first record one cell wider than the header as
        # having an index column and shifts every value one column to the left.
        for chunk in pd.read_csv(source, index_col=False, chunksize=chunk_rows, **options):
            chunk.columns = header
            chunk, next_line = _number_lines(chunk, next_line)
            yield chunk
    except pd.errors.EmptyDataError as error:
        raise CsvFileError("line 1: header: the file is empty") from error
    except pd.errors.ParserError as error:
        raise CsvFileError(f"the file is not valid CSV: {str(error).strip()}") from error
    except UnicodeDecodeError as error:
        raise CsvFileError("the file is not UTF-8 text") from error


def _checked_header(source: IO[bytes], csv_format: CsvFormat, options: dict) -> list[str]:
    """The header's names, stripped, once no name holds a NUL or is given twice, the required
    columns are there and the first record is no wider than the header."""
    header = [str(name).strip() for name in pd.read_csv(source, nrows=0, **options).columns]
    if holding_nul := [place for place, name in enumerate(header, 1) if "\x00" in name]:
        raise CsvFileError(f"line 1: header: the name of column {holding_nul[0]} {NUL_IN_CELL}")
    if missing := [name for name in csv_format.required_columns if name not in header]:
        raise CsvFileError(f"line 1: header: missing required columns: {', '.join(missing)}")
    source.seek(0)
    # Read as data, the header makes the tokenizer refuse a wider first record as it does every
    # later one (pandas drops the first record's extra cells), and its names come as written
    # (pandas renames a repeated one "email.1"; empty ones it names "Unnamed: N", all distinct).
    names = pd.read_csv(source, header=None, nrows=2, **options).iloc[0].str.strip()
    if repeated := names[names.duplicated() & (names != "")].unique().tolist():
        raise CsvFileError(f"line 1: header: columns given more than once: {', '.join(repeated)}")
    return header


def _number_lines(chunk: pd.DataFrame, first_line: int) -> tuple[pd.DataFrame, int]:
    """Index records by the physical line they start on (cells may hold line breaks); drop
    blank lines."""
    lines_taken = 1 + sum(_line_breaks(chunk[name]) for name in chunk.columns)
    starts = first_line + lines_taken.cumsum() - lines_taken
    next_line = first_line + int(lines_taken.sum())
    chunk = chunk.apply(lambda cells: cells.str.strip())
    chunk.index = pd.Index(starts.to_numpy(), name="line")
    blank = (chunk == "").all(axis=1)
    return chunk[~blank], next_line


def _line_breaks(cells: pd.Series) -> pd.Series:
    # Counting only in the few cells that hold a break keeps the common case fast.
    breaks = pd.Series(0, index=cells.index)
    holding = cells.str.contains("\n", regex=False)
    breaks[holding] = cells[holding].str.count("\n")
    return breaks


def validate(csv_format: CsvFormat, chunk: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parse every known column present in ``chunk``, plus the kept extra columns as text.

    Returns the parsed values (same index) and the problems in line and column order.
    """
    chunk, problems = _without_nul(csv_format, chunk)
    parsed = {}
    for column in csv_format.columns:
        if column.name not in chunk.columns:
            continue
        cells = chunk[column.name]
        checked = column.parse(cells)
        parsed[column.name] = checked.values
        found = [(cells == "", "required")] if column.required else []
        for mask, message in found + checked.problems:
            problems.append(
                problem_rows(mask.index[mask.fillna(False).to_numpy(bool)], column.name, message)
            )
    for name in csv_format.extra_columns(list(chunk.columns)):
        parsed[name] = chunk[name]
    parsed = pd.DataFrame(parsed, index=chunk.index)
    problems += [check(parsed) for check in csv_format.row_checks]
    return parsed, sort_problems(csv_format, problems)


def _without_nul(csv_format: CsvFormat, chunk: pd.DataFrame) -> tuple[pd.DataFrame, list]:
    """Each used cell holding a NUL character is a problem, and its NULs become U+FFFD, so the
    row's keys can still be looked up in the database (whose text cannot hold a NUL)."""
    used = [name for name in csv_format.column_names if name in chunk.columns]
    used += csv_format.extra_columns(list(chunk.columns))
    holding = {name: chunk[name].str.contains("\x00", regex=False) for name in used}
    holding = {name: mask for name, mask in holding.items() if mask.any()}
    problems = [problem_rows(mask.index[mask], name, NUL_IN_CELL) for name, mask in holding.items()]
    if holding:
        chunk = chunk.copy()  # not assign(): a custom column may be called "self"
        for name in holding:
            chunk[name] = chunk[name].str.replace("\x00", "\ufffd", regex=False)
    return chunk, problems


def unique_keys(csv_format: CsvFormat, chunk: pd.DataFrame) -> dict[str, pd.Series]:
    """The cells of each unique column in ``chunk``, case-folded where case is ignored."""
    return {
        column.name: chunk[column.name].str.casefold() if column.ignore_case else chunk[column.name]
        for column in csv_format.columns
        if column.unique and column.name in chunk.columns
    }


def problem_rows(lines, column: str, problem: str | pd.Series) -> pd.DataFrame:
    """A problem frame for ``lines``; ``problem`` is one message or one per line."""
    messages = problem.to_numpy() if isinstance(problem, pd.Series) else problem
    return pd.DataFrame(
        {"line": pd.Index(lines, dtype="int64"), "column": column, "problem": messages}
    )


def sort_problems(csv_format: CsvFormat, frames: list[pd.DataFrame]) -> pd.DataFrame:
    """One frame, ordered by line and then by the column's place in the format."""
    frames = [frame for frame in frames if not frame.empty]
    if not frames:
        return pd.DataFrame({"line": pd.Series(dtype="int64"), "column": "", "problem": ""})
    problems = pd.concat(frames, ignore_index=True)
    order = {name: place for place, name in enumerate(csv_format.column_names)}
    place = problems["column"].map(order).fillna(len(order))
    problems = problems.assign(place=place).sort_values(["line", "place"], kind="stable")
    return problems[PROBLEM_COLUMNS].reset_index(drop=True)


def duplicates(keys: pd.Series, column: str) -> pd.DataFrame:
    """Every repeat of a key after its first line is a problem naming that first line.

    ``keys`` is indexed by line; empty keys are left to the required-cell check.
    """
    keys = keys[keys != ""]
    lines = pd.Series(keys.index, index=keys.index)
    first = lines.groupby(keys.to_numpy()).transform("min")
    repeated = first[first != lines].astype(str)
    return problem_rows(repeated.index, column, "duplicate of line " + repeated)


def error_texts(problems: pd.DataFrame) -> list[str]:
    texts = "line " + problems["line"].astype(str) + ": " + problems["column"]
    return (texts + ": " + problems["problem"]).tolist()
