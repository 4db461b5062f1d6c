"""CSV imports: customers, purchases and tickets, idempotent by their external keys.

A file is read in chunks and handled in two passes: the first validates every row (cells,
duplicates in the file, references to the database), the second writes the valid rows in one
transaction, so a file with errors imports nothing unless ``skip_invalid`` is set. Writes are
set-based: one upsert per chunk (COPY into a temporary table and INSERT ... ON CONFLICT on
PostgreSQL, ``bulk_create(update_conflicts=True)`` elsewhere).

Other apps add kinds with ``register_import_kind`` in their ``AppConfig.ready()``.
"""

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import DatabaseError, connection, models, transaction
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone

from helpdesk.audit import record_change
from helpdesk.db import copy_frame
from helpdesk.jobs import enqueue_on_commit, heartbeat_cutoff, stopped_responding
from helpdesk.models import User
from tickets import csv_formats
from tickets.csv_formats import CsvFileError, CsvFormat
from tickets.models import Customer, ImportJob, Message, Organisation, Purchase, Ticket
from tickets.services.customers import tags_named

CHUNK_ROWS = 50_000
MAX_STORED_ERRORS = 1_000
PROGRESS_TTL_SECONDS = 24 * 3600

# phase ("checking" or "importing"), rows done, rows in the file (0 while checking)
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ImportKind:
    """How to import one kind of file.

    ``check`` finds the problems only the database can tell (unknown references, conflicts)
    in a chunk of parsed rows; ``write`` stores a chunk of valid parsed rows, given the columns
    the file has, and returns how many rows it created and updated.
    """

    csv_format: CsvFormat
    check: Callable[[pd.DataFrame], pd.DataFrame]
    write: Callable[[pd.DataFrame, list[str]], tuple[int, int]]


IMPORT_KINDS: dict[str, ImportKind] = {}


def register_import_kind(name: str, kind: ImportKind) -> None:
    IMPORT_KINDS[name] = kind


@dataclass
class ImportResult:
    total_rows: int = 0
    created: int = 0
    updated: int = 0
    invalid_rows: int = 0
    problem_count: int = 0
    # The first MAX_STORED_ERRORS problems as "line N: column: problem".
    errors: list[str] = field(default_factory=list)
    # False when the file was refused as a whole and nothing was written.
    written: bool = False

    def error_lines(self) -> list[str]:
        hidden = self.problem_count - len(self.errors)
        return self.errors + ([f"… and {hidden} more problems"] if hidden > 0 else [])


def import_csv(
    *,
    kind: str,
    source: IO[bytes],
    skip_invalid: bool = False,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> ImportResult:
    """Validate the whole file, then import it: all rows, or with ``skip_invalid`` the valid
    ones. A file with problems and no ``skip_invalid`` changes nothing. ``source`` must be
    seekable."""
    import_kind = IMPORT_KINDS[kind]
    progress = progress or (lambda phase, done, total: None)
    result = ImportResult()
    # The checking pass keeps its parsed chunks on disk for the writing pass: memory stays
    # bounded and the file is parsed once.
    with tempfile.TemporaryDirectory(prefix="import-") as spool:
        try:
            problems, chunks = _check_file(
                import_kind, source, Path(spool), result, progress, chunk_rows
            )
        except CsvFileError as error:
            result.problem_count, result.errors = 1, [str(error)]
            return result
        result.invalid_rows = problems["line"].nunique()
        result.problem_count = len(problems)
        result.errors = csv_formats.error_texts(problems.head(MAX_STORED_ERRORS))
        if result.errors and not skip_invalid:
            return result
        _write_chunks(import_kind, chunks, problems["line"].unique(), result, progress)
    return result


def _check_file(
    import_kind: ImportKind,
    source: IO[bytes],
    spool: Path,
    result: ImportResult,
    progress: Progress,
    chunk_rows: int,
) -> tuple[pd.DataFrame, list[Path]]:
    """All problems of the file, and the files holding its parsed chunks."""
    csv_format = import_kind.csv_format
    problems: list[pd.DataFrame] = []
    keys: dict[str, list[pd.Series]] = {}
    chunks: list[Path] = []
    for chunk in csv_formats.read_chunks(source, csv_format, chunk_rows=chunk_rows):
        parsed, cell_problems = csv_formats.validate(csv_format, chunk)
        problems += [cell_problems, import_kind.check(parsed)]
        for name, cells in csv_formats.unique_keys(csv_format, chunk).items():
            keys.setdefault(name, []).append(cells)
        chunks.append(spool / f"{len(chunks)}.pickle")
        parsed.to_pickle(chunks[-1])
        result.total_rows += len(chunk)
        progress("checking", result.total_rows, 0)
    problems += [csv_formats.duplicates(pd.concat(cells), name) for name, cells in keys.items()]
    return csv_formats.sort_problems(csv_format, problems), chunks


@transaction.atomic
def _write_chunks(
    import_kind: ImportKind,
    chunks: list[Path],
    invalid_lines: np.ndarray,
    result: ImportResult,
    progress: Progress,
) -> None:
    done = 0
    for path in chunks:
        parsed = pd.read_pickle(path)  # written by _check_file above, never outside input
        valid = parsed[~parsed.index.isin(invalid_lines)]
        if not valid.empty:
            created, updated = import_kind.write(valid, list(parsed.columns))
            result.created += created
            result.updated += updated
        done += len(parsed)
        progress("importing", done, result.total_rows)
    result.written = True


# Import jobs: the upload page's files, run by a Celery task.


@transaction.atomic
def start_import_job(
    *, kind: str, file: File, skip_invalid: bool, created_by: User | None
) -> ImportJob:
    if kind not in IMPORT_KINDS:
        raise ValueError(f"unknown import kind {kind!r}")
    return _queue_job(kind=kind, file=file, skip_invalid=skip_invalid, created_by=created_by)


@transaction.atomic
def retry_import_job(*, job: ImportJob, created_by: User | None) -> ImportJob:
    """A new job for a failed job's stored file, so the lead does not upload it again; asked
    twice (a double click), the same new job."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.state != ImportJob.State.FAILED:
        raise ValidationError("Only a failed import can be started again.")
    existing = ImportJob.objects.filter(retry_of=job).first()
    if existing is not None:
        return existing
    return _queue_job(
        kind=job.kind,
        file=job.file.name,
        skip_invalid=job.skip_invalid,
        created_by=created_by,
        retry_of=job,
    )


def _queue_job(**fields) -> ImportJob:
    job = ImportJob.objects.create(**fields)
    from tickets.tasks import run_import_job

    enqueue_on_commit(run_import_job, job.pk)
    return job


def run_import_job(*, job_id: int) -> ImportJob:
    """Run a queued job once: a duplicate delivery finds it claimed or finished and leaves
    it alone."""
    claimed = ImportJob.objects.filter(pk=job_id, state=ImportJob.State.QUEUED).update(
        state=ImportJob.State.RUNNING, started_at=timezone.now()
    )
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if not claimed:
        return job
    try:
        with job.file.open("rb") as source:
            result = import_csv(
                kind=job.kind,
                source=source,
                skip_invalid=job.skip_invalid,
                progress=lambda phase, done, total: _publish_progress(job.pk, phase, done, total),
            )
    except DatabaseError as error:
        # Rows changed between the check and the write (a concurrent edit): nothing was written.
        result = ImportResult(problem_count=1, errors=[f"the database refused the rows: {error}"])
    except Exception:
        _finish(job, ImportResult(problem_count=1, errors=["internal error; see the worker log"]))
        raise
    _finish(job, result)
    return job


def _finish(job: ImportJob, result: ImportResult) -> None:
    job.state = ImportJob.State.SUCCEEDED if result.written else ImportJob.State.FAILED
    # A worker that was slow, not dead, may finish after the sweeper failed its job: its true
    # outcome replaces the guess, reason included.
    job.failure_reason = ""
    job.total_rows = result.total_rows
    job.processed_rows = result.total_rows if result.written else 0
    job.created_count = result.created
    job.updated_count = result.updated
    job.invalid_rows = result.invalid_rows
    job.errors = result.error_lines()
    job.finished_at = timezone.now()
    job.save(
        update_fields=[
            "state",
            "total_rows",
            "processed_rows",
            "created_count",
            "updated_count",
            "invalid_rows",
            "errors",
            "failure_reason",
            "finished_at",
        ]
    )
    cache.delete(_progress_key(job.pk))
    record_change(
        target=job,
        action="import_finished",
        actor=job.created_by,
        changes={"state": job.state, "created": result.created, "updated": result.updated},
    )


def _progress_key(job_id: int) -> str:
    return f"import-job:{job_id}:live"


def _publish_progress(job_id: int, phase: str, done: int, total: int) -> None:
    # The writes run in one transaction, invisible to the job page and the sweeper until
    # commit, so the running count and the time of the last progress travel through the cache.
    cache.set(_progress_key(job_id), (phase, done, total, timezone.now()), PROGRESS_TTL_SECONDS)


def live_progress(job: ImportJob) -> tuple[str, int, int]:
    """(phase, rows done, rows in the file) of a job; phase is "" unless it is running."""
    if job.state != ImportJob.State.RUNNING:
        return "", job.processed_rows, job.total_rows
    phase, done, total, _ = cache.get(_progress_key(job.pk)) or ("checking", 0, 0, None)
    return phase, done, total


def progress_percent(job: ImportJob, done: int, total: int) -> int:
    """The percent the job page shows for ``live_progress``'s rows."""
    return min(100, round(100 * done / total)) if total else job.percent


def fail_stalled_import_jobs() -> list[int]:
    """Mark failed the running jobs whose worker has been silent for ``JOB_HEARTBEAT_TIMEOUT``
    seconds (killed, and a redelivered task finds the job claimed); returns their ids. Nothing
    of theirs was written: the writes are one transaction."""
    cutoff = heartbeat_cutoff()
    candidates = list(
        ImportJob.objects.filter(state=ImportJob.State.RUNNING)
        .alias(claimed_at=Coalesce("started_at", "created_at"))
        .filter(claimed_at__lt=cutoff)
        .select_related("created_by")
        .only("pk", "state", "total_rows", "processed_rows", "created_by")
    )
    live = cache.get_many([_progress_key(job.pk) for job in candidates])
    failed = []
    for job in candidates:
        _, done, total, at = live.get(_progress_key(job.pk), ("", 0, 0, None))
        if (at is None or at < cutoff) and _fail_stalled(job, progress_percent(job, done, total)):
            failed.append(job.pk)
    return failed


def _fail_stalled(job: ImportJob, percent: int) -> bool:
    reason = stopped_responding(percent)
    stopped = ImportJob.objects.filter(pk=job.pk, state=ImportJob.State.RUNNING).update(
        state=ImportJob.State.FAILED, failure_reason=reason, finished_at=timezone.now()
    )
    if stopped:
        cache.delete(_progress_key(job.pk))
        record_change(
            target=job,
            action="import_finished",
            actor=job.created_by,
            changes={"state": ImportJob.State.FAILED, "reason": reason},
        )
    return bool(stopped)


# Database checks and writers of the built-in kinds.


def _customer_ids(external_ids: pd.Series) -> pd.Series:
    return _pks_by_key(Customer, "external_id", external_ids)


def _pks_by_key(model: type[models.Model], key: str, values: pd.Series) -> pd.Series:
    """The pk of the row whose ``key`` is each value (NaN where there is none), one query."""
    wanted = values[values != ""].unique().tolist()
    if connection.vendor == "postgresql":
        # One array parameter instead of the ORM's tens of thousands of IN parameters.
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {_quoted(key)}, {_quoted(model._meta.pk.column)} "
                f"FROM {_quoted(model._meta.db_table)} WHERE {_quoted(key)} = ANY(%s)",
                [wanted],
            )
            found = dict(cursor.fetchall())
    else:
        found = dict(model.objects.filter(**{f"{key}__in": wanted}).values_list(key, "pk"))
    return values.map(found)


def _quoted(name: str) -> str:
    return connection.ops.quote_name(name)


def _check_customer_reference(rows: pd.DataFrame) -> pd.DataFrame:
    references = rows["customer_external_id"]
    unknown = (references != "") & _customer_ids(references).isna()
    return csv_formats.problem_rows(
        rows.index[unknown.to_numpy()], "customer_external_id", "no customer with this external_id"
    )


def _email_owners(emails: pd.Series) -> pd.DataFrame:
    """Existing customers by case-folded address: their pk and external_id."""
    owners = (
        Customer.objects.annotate(address=Lower("email"))
        .filter(address__in=emails[emails != ""].str.lower().unique().tolist())
        .values("address", "pk", "external_id")
    )
    return pd.DataFrame(list(owners), columns=["address", "pk", "external_id"]).set_index("address")


def _check_customers(rows: pd.DataFrame) -> pd.DataFrame:
    """An address may only move to a row's customer if no other customer has it; a customer
    without an external_id (one who emailed in) is adopted by the row with their address."""
    owners = _email_owners(rows["email"])
    addresses = rows["email"].str.lower()
    owner_external_id = addresses.map(owners["external_id"])
    owned = addresses.isin(owners.index)
    row_customer_exists = _known_keys(Customer, "external_id", rows["external_id"])
    adoptable = owner_external_id.isna() & ~row_customer_exists
    conflict = owned & (owner_external_id != rows["external_id"]) & ~adoptable
    return csv_formats.problem_rows(
        rows.index[conflict.to_numpy()], "email", "already used by another customer"
    )


def _known_keys(model: type[models.Model], key: str, values: pd.Series) -> pd.Series:
    return _pks_by_key(model, key, values).notna()


CUSTOMER_TEXT_COLUMNS = ("name", "phone", "country", "city", "language", "gender", "plan")


def _write_customers(rows: pd.DataFrame, header: list[str]) -> tuple[int, int]:
    _adopt_customers_by_email(rows)
    present = [name for name in (*CUSTOMER_TEXT_COLUMNS, "age", "signup_date") if name in header]
    frame = pd.DataFrame(
        {
            "external_id": rows["external_id"],
            "email": rows["email"],
            **{name: _text_or(rows, name, "") for name in CUSTOMER_TEXT_COLUMNS},
            "age": rows.get("age", pd.NA),
            "signup_date": rows.get("signup_date", pd.NA),
        },
        index=rows.index,
    )
    frame["signup_date"] = frame["signup_date"].astype(object)
    update_fields = ["email", *present, "updated_at"]
    if "company" in header:
        frame["organisation_id"] = _organisation_ids(rows["company"])
        update_fields.append("organisation_id")
    custom_columns = csv_formats.CUSTOMERS.extra_columns(header)
    frame["custom_fields"] = _custom_fields(rows, custom_columns)
    if custom_columns:
        update_fields.append("custom_fields")
    counts = _upsert(Customer, frame, key="external_id", update_fields=update_fields)
    if "tags" in header:
        _replace_tags(Customer, rows["external_id"], rows["tags"])
    return counts


def _adopt_customers_by_email(rows: pd.DataFrame) -> None:
    owners = _email_owners(rows["email"])
    owners = owners[owners["external_id"].isna()]
    new_rows = rows[~_known_keys(Customer, "external_id", rows["external_id"])]
    owner_pk = new_rows["email"].str.lower().map(owners["pk"]).dropna()
    adopted = [
        Customer(pk=int(pk), external_id=external_id)
        for pk, external_id in zip(
            owner_pk, new_rows.loc[owner_pk.index, "external_id"], strict=True
        )
    ]
    Customer.objects.bulk_update(adopted, ["external_id"], batch_size=1000)


def _organisation_ids(companies: pd.Series) -> pd.Series:
    """The organisation for each company name (case-insensitive), created when missing."""
    names = companies[companies != ""]
    first_spelling = names.groupby(names.str.lower()).first()
    existing = _organisations_named(first_spelling.index)
    missing = first_spelling[~first_spelling.index.isin(existing.index)]
    Organisation.objects.bulk_create([Organisation(name=name) for name in missing])
    ids = _organisations_named(first_spelling.index)
    return companies.str.lower().map(ids).astype("Int64")


def _organisations_named(lower_names: pd.Index) -> pd.Series:
    found = (
        Organisation.objects.annotate(lower_name=Lower("name"))
        .filter(lower_name__in=lower_names.tolist())
        .order_by("pk")
        .values_list("lower_name", "pk")
    )
    pairs = pd.DataFrame(list(found), columns=["lower_name", "pk"]).drop_duplicates("lower_name")
    return pairs.set_index("lower_name")["pk"]


def _custom_fields(rows: pd.DataFrame, custom_columns: list[str]) -> pd.Series:
    """Each row's custom fields: the stored ones, overwritten by the file's columns; an empty
    cell removes its field."""
    if not custom_columns:
        return pd.Series([{}] * len(rows), index=rows.index, dtype=object)
    stored = dict(
        Customer.objects.filter(external_id__in=rows["external_id"].tolist()).values_list(
            "external_id", "custom_fields"
        )
    )
    cells = rows[custom_columns].to_dict("records")
    merged = [
        {
            **{k: v for k, v in stored.get(external_id, {}).items() if k not in row},
            **{k: v for k, v in row.items() if v != ""},
        }
        for external_id, row in zip(rows["external_id"], cells, strict=True)
    ]
    return pd.Series(merged, index=rows.index, dtype=object)


def _write_purchases(rows: pd.DataFrame, header: list[str]) -> tuple[int, int]:
    frame = pd.DataFrame(
        {
            "order_id": rows["order_id"],
            "customer_id": _customer_ids(rows["customer_external_id"]).astype("int64"),
            "ordered_at": rows["ordered_at"],
            "amount": rows["amount"],
            "currency": _text_or(rows, "currency", "EUR"),
            "product": _text_or(rows, "product", ""),
            "category": _text_or(rows, "category", ""),
            "quantity": rows["quantity"].fillna(1) if "quantity" in rows else 1,
        },
        index=rows.index,
    )
    optional = [name for name in ("currency", "product", "category", "quantity") if name in header]
    update_fields = ["customer_id", "ordered_at", "amount", *optional]
    return _upsert(Purchase, frame, key="order_id", update_fields=update_fields)


def _text_or(rows: pd.DataFrame, name: str, default: str) -> pd.Series:
    """The column's cells with empty ones replaced by ``default``; all ``default`` if absent."""
    if name not in rows:
        return pd.Series(default, index=rows.index)
    return rows[name].mask(rows[name] == "", default)


def _write_tickets(rows: pd.DataFrame, header: list[str]) -> tuple[int, int]:
    """Imported tickets are history: marked routed so routing never touches them. A
    re-import updates the ticket's fields and tags and the text of its imported first
    message, and rebuilds its search text."""
    body = rows["body"] if "body" in rows else pd.Series("", index=rows.index)
    optional = [
        name for name in ("channel", "status", "priority", "first_response_at") if name in header
    ]
    solved = ["solved_at", "closed_at"] if "solved_at" in header else []
    update_fields = ["customer_id", "subject", "created_at", "updated_at", *optional, *solved]
    existing = _known_keys(Ticket, "external_id", rows["external_id"])
    counts = _upsert(
        Ticket, _ticket_frame(rows, body), key="external_id", update_fields=update_fields
    )
    ticket_ids = _pks_by_key(Ticket, "external_id", rows["external_id"]).astype("int64")
    _add_first_messages(ticket_ids[~existing], body[~existing], rows["created_at"][~existing])
    if "body" in header:
        _update_first_messages(ticket_ids[existing], body[existing])
    _rebuild_search_documents(ticket_ids[existing])
    if "tags" in header:
        _replace_tags(Ticket, rows["external_id"], rows["tags"])
    return counts


def _ticket_frame(rows: pd.DataFrame, body: pd.Series) -> pd.DataFrame:
    no_time = pd.Series(pd.NaT, index=rows.index, dtype=rows["created_at"].dtype)
    first_response_at = rows.get("first_response_at", no_time)
    solved_at = rows.get("solved_at", no_time)
    status = _text_or(rows, "status", Ticket.Status.NEW)
    return pd.DataFrame(
        {
            "external_id": rows["external_id"],
            "customer_id": _customer_ids(rows["customer_external_id"]).astype("int64"),
            "subject": rows["subject"],
            "channel": _text_or(rows, "channel", Ticket.Channel.EMAIL),
            "status": status,
            "priority": _text_or(rows, "priority", Ticket.Priority.NORMAL),
            "created_at": rows["created_at"],
            "updated_at": pd.concat([rows["created_at"], first_response_at, solved_at], axis=1).max(
                axis=1
            ),
            "first_response_at": first_response_at,
            "solved_at": solved_at,
            "closed_at": solved_at.where(status == Ticket.Status.CLOSED),
            "routed_at": timezone.now(),
            "search_document": (rows["subject"] + "\n" + body).str.strip().str.slice(0, 100_000),
        },
        index=rows.index,
    )


def _add_first_messages(ticket_ids: pd.Series, bodies: pd.Series, created_at: pd.Series) -> None:
    Message.objects.bulk_create(
        [
            Message(ticket_id=ticket_id, kind=Message.Kind.INBOUND, body_text=body, created_at=at)
            for ticket_id, body, at in zip(ticket_ids, bodies, created_at, strict=True)
        ],
        batch_size=1000,
    )


def _first_message_ids(ticket_ids: pd.Series) -> pd.Series:
    """The pk of each ticket's earliest message, indexed like ``ticket_ids``."""
    messages = pd.DataFrame(
        list(
            Message.objects.filter(ticket_id__in=ticket_ids.tolist())
            .order_by("ticket_id", "created_at", "pk")
            .values_list("ticket_id", "pk")
        ),
        columns=["ticket_id", "pk"],
    )
    return ticket_ids.map(messages.drop_duplicates("ticket_id").set_index("ticket_id")["pk"])


def _update_first_messages(ticket_ids: pd.Series, bodies: pd.Series) -> None:
    message_ids = _first_message_ids(ticket_ids).dropna()
    Message.objects.bulk_update(
        [
            Message(pk=int(pk), body_text=body)
            for pk, body in zip(message_ids, bodies[message_ids.index], strict=True)
        ],
        ["body_text"],
        batch_size=1000,
    )


def _rebuild_search_documents(ticket_ids: pd.Series) -> None:
    """Subject and every message's text, as the ticket services keep it."""
    if ticket_ids.empty:
        return
    ids = ticket_ids.tolist()
    texts = pd.DataFrame(
        list(
            Message.objects.filter(ticket_id__in=ids)
            .order_by("ticket_id", "created_at", "pk")
            .values_list("ticket_id", "body_text")
        ),
        columns=["ticket_id", "text"],
    )
    subjects = pd.DataFrame(
        list(Ticket.objects.filter(pk__in=ids).values_list("pk", "subject")),
        columns=["ticket_id", "text"],
    )
    documents = (
        pd.concat([subjects, texts], ignore_index=True)
        .groupby("ticket_id", sort=False)["text"]
        .agg("\n".join)
        .str.strip()
        .str.slice(0, 100_000)
    )
    Ticket.objects.bulk_update(
        [Ticket(pk=pk, search_document=text) for pk, text in documents.items()],
        ["search_document"],
        batch_size=1000,
    )


def _replace_tags(model: type[models.Model], keys: pd.Series, cells: pd.Series) -> None:
    """Set each row's tag set to the tags in its cell (an empty cell clears it)."""
    owner_ids = _pks_by_key(model, "external_id", keys).astype("int64")
    through = model.tags.through
    owner_column = f"{model._meta.model_name}_id"
    pairs = csv_formats.split_tags(cells)
    tag_ids = {tag.name: tag.pk for tag in tags_named(pairs.unique().tolist())}
    through.objects.filter(**{f"{owner_column}__in": owner_ids.tolist()}).delete()
    through.objects.bulk_create(
        [
            through(**{owner_column: owner_id, "tag_id": tag_ids[name]})
            for owner_id, name in zip(owner_ids.loc[pairs.index], pairs, strict=True)
        ],
        batch_size=1000,
    )


# The upsert: one statement per chunk and key.


def _upsert(
    model: type[models.Model], frame: pd.DataFrame, *, key: str, update_fields: list[str]
) -> tuple[int, int]:
    """Insert the rows of ``frame`` (columns are the model's column names) whose ``key`` is
    new and update ``update_fields`` of the others. Returns (created, updated)."""
    if connection.vendor == "postgresql":
        created = _copy_upsert(model, frame, key=key, update_fields=update_fields)
    else:
        created = len(frame) - int(_known_keys(model, key, frame[key]).sum())
        _bulk_upsert(model, frame, key=key, update_fields=update_fields)
    return created, len(frame) - created


def _bulk_upsert(
    model: type[models.Model], frame: pd.DataFrame, *, key: str, update_fields: list[str]
) -> None:
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    model.objects.bulk_create(
        [model(**record) for record in records],
        batch_size=1000,
        update_conflicts=True,
        unique_fields=[key],
        update_fields=update_fields,
    )


def _copy_upsert(
    model: type[models.Model], frame: pd.DataFrame, *, key: str, update_fields: list[str]
) -> int:
    """COPY the rows into a temporary table, then one INSERT ... ON CONFLICT; returns how
    many rows were inserted (``xmax = 0`` marks a row this statement inserted)."""
    frame = _with_defaults(model, frame)
    table = _quoted(model._meta.db_table)
    stage = _quoted(f"import_stage_{model._meta.db_table}")
    columns = ", ".join(_quoted(name) for name in frame.columns)
    # In CSV an empty cell is NULL; in NOT NULL text columns it means the empty string.
    not_null_text = [
        f.column
        for f in model._meta.concrete_fields
        if f.column in frame.columns
        and not f.null
        and isinstance(f, models.CharField | models.TextField)
    ]
    updates = ", ".join(f"{_quoted(name)} = EXCLUDED.{_quoted(name)}" for name in update_fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ON COMMIT DROP AS "
            f"SELECT {columns} FROM {table} WITH NO DATA"
        )
        cursor.execute(f"TRUNCATE {stage}")
        copy_frame(cursor.cursor, stage, _as_copy_text(model, frame), force_not_null=not_null_text)
        cursor.execute(
            f"WITH written AS (INSERT INTO {table} ({columns}) SELECT {columns} FROM {stage} "
            f"ON CONFLICT ({_quoted(key)}) DO UPDATE SET {updates} RETURNING xmax = 0 AS new) "
            "SELECT count(*) FILTER (WHERE new) FROM written"
        )
        return cursor.fetchone()[0]


def _with_defaults(model: type[models.Model], frame: pd.DataFrame) -> pd.DataFrame:
    """Add the model's other columns with their Python-side defaults, which a COPY cannot
    apply: without them a new NOT NULL field would break inserts."""
    now = timezone.now()
    defaults = {
        f.column: now
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        else f.get_default()
        for f in model._meta.concrete_fields
        if not f.primary_key and f.column not in frame.columns
    }
    return frame.assign(**{name: [value] * len(frame) for name, value in defaults.items()})


def _as_copy_text(model: type[models.Model], frame: pd.DataFrame) -> pd.DataFrame:
    """JSON columns as JSON text and times as ISO text in UTC (numpy formats them much faster
    than pandas); the rest as pandas writes it."""
    json_columns = [
        f.column
        for f in model._meta.concrete_fields
        if isinstance(f, models.JSONField) and f.column in frame.columns
    ]
    time_columns = [
        name for name in frame.columns if isinstance(frame[name].dtype, pd.DatetimeTZDtype)
    ]
    return frame.assign(
        **{name: frame[name].map(json.dumps) for name in json_columns},
        **{name: _utc_text(frame[name]) for name in time_columns},
    )


def _utc_text(times: pd.Series) -> pd.Series:
    naive = times.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
    text = pd.Series(np.datetime_as_string(naive, unit="us"), index=times.index) + "+00:00"
    return text.where(times.notna(), None)


register_import_kind(
    "customers",
    ImportKind(csv_format=csv_formats.CUSTOMERS, check=_check_customers, write=_write_customers),
)
register_import_kind(
    "purchases",
    ImportKind(
        csv_format=csv_formats.PURCHASES, check=_check_customer_reference, write=_write_purchases
    ),
)
register_import_kind(
    "tickets",
    ImportKind(
        csv_format=csv_formats.TICKETS, check=_check_customer_reference, write=_write_tickets
    ),
)
