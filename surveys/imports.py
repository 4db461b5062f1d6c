"""Historical survey answers from CSV: ``python manage.py import_data surveys FILE``.

Columns ``ticket_external_id,kind,score,comment,answered_at``; kind is csat (scored 1-5) or nps
(scored 0-10). One answer per ticket and kind: importing the file again updates the answers.
Registered with the tickets import framework in ``SurveysConfig.ready()``.
"""

import pandas as pd

from surveys.models import SurveyInvitation, SurveyResponse
from surveys.scales import STARS, ZERO_TO_TEN
from tickets import csv_formats
from tickets.csv_formats import Column, CsvFormat
from tickets.models import Ticket
from tickets.services.imports import ImportKind

SCALE_OF_KIND = {SurveyInvitation.Kind.CSAT: STARS, SurveyInvitation.Kind.NPS: ZERO_TO_TEN}
MAX_COMMENT_LENGTH = 5000


def _csat_on_its_scale(rows: pd.DataFrame) -> pd.DataFrame:
    low, high = min(STARS.scores), max(STARS.scores)
    off_scale = (rows["kind"] == "csat") & ((rows["score"] < low) | (rows["score"] > high))
    return csv_formats.problem_rows(
        rows.index[off_scale.fillna(False).to_numpy(bool)],
        "score",
        f"a CSAT score must be from {low} to {high}",
    )


def _one_answer_per_ticket_and_kind(rows: pd.DataFrame) -> pd.DataFrame:
    return csv_formats.duplicates(
        rows["ticket_external_id"] + " " + rows["kind"].fillna(""), "ticket_external_id"
    )


SURVEYS = CsvFormat(
    key="ticket_external_id",
    required_columns=("ticket_external_id", "kind", "score", "answered_at"),
    columns=(
        Column("ticket_external_id", csv_formats.text(100), required=True),
        Column("kind", csv_formats.choice(list(SurveyInvitation.Kind.values)), required=True),
        Column("score", csv_formats.whole_number(0, 10), required=True),
        Column("comment", csv_formats.text(MAX_COMMENT_LENGTH)),
        Column("answered_at", csv_formats.date_time, required=True),
    ),
    row_checks=(_csat_on_its_scale, _one_answer_per_ticket_and_kind),
)


def _tickets(external_ids: pd.Series) -> pd.DataFrame:
    """id, customer, assignee and team of the tickets with these external ids, in one query."""
    found = Ticket.objects.filter(external_id__in=external_ids.unique().tolist()).values_list(
        "external_id", "pk", "customer_id", "assignee_id", "team_id"
    )
    columns = ["external_id", "ticket_id", "customer_id", "agent_id", "team_id"]
    return pd.DataFrame(list(found), columns=columns).set_index("external_id")


def _check_tickets(rows: pd.DataFrame) -> pd.DataFrame:
    references = rows["ticket_external_id"]
    unknown = (references != "") & ~references.isin(_tickets(references).index)
    return csv_formats.problem_rows(
        rows.index[unknown.to_numpy()], "ticket_external_id", "no ticket with this external_id"
    )


def _write_surveys(rows: pd.DataFrame, header: list[str]) -> tuple[int, int]:
    """Invitations are created once per ticket and kind (credited to the ticket's agent and team
    as they are now); responses are upserted on their invitation."""
    frame = rows.join(_tickets(rows["ticket_external_id"]), on="ticket_external_id")
    frame = frame.astype(object).where(frame.notna(), None)
    SurveyInvitation.objects.bulk_create(
        [
            SurveyInvitation(
                kind=row.kind,
                scale=SCALE_OF_KIND[row.kind].slug,
                ticket_id=row.ticket_id,
                customer_id=row.customer_id,
                agent_id=row.agent_id,
                team_id=row.team_id,
                created_at=row.answered_at,
                sent_at=row.answered_at,
            )
            for row in frame.itertuples()
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )
    return _upsert_responses(frame, _invitation_ids(frame), with_comment="comment" in header)


def _invitation_ids(frame: pd.DataFrame) -> dict[tuple[int, str], int]:
    invitations = SurveyInvitation.objects.filter(
        ticket_id__in=frame["ticket_id"].unique().tolist()
    ).values_list("ticket_id", "kind", "pk")
    return {(ticket_id, kind): pk for ticket_id, kind, pk in invitations}


def _upsert_responses(
    frame: pd.DataFrame, invitation_ids: dict[tuple[int, str], int], *, with_comment: bool
) -> tuple[int, int]:
    keys = [invitation_ids[(row.ticket_id, row.kind)] for row in frame.itertuples()]
    existing = SurveyResponse.objects.filter(invitation_id__in=keys).count()
    SurveyResponse.objects.bulk_create(
        [
            SurveyResponse(
                invitation_id=invitation_id,
                score=row.score,
                comment=(row.comment or "") if with_comment else "",
                answered_at=row.answered_at,
            )
            for invitation_id, row in zip(keys, frame.itertuples(), strict=True)
        ],
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["invitation"],
        update_fields=["score", "answered_at", *(["comment"] if with_comment else [])],
    )
    return len(keys) - existing, existing


SURVEYS_IMPORT = ImportKind(csv_format=SURVEYS, check=_check_tickets, write=_write_surveys)
