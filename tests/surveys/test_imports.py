import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from surveys import services
from surveys.models import SurveyInvitation, SurveyResponse
from tests import factories
from tickets.models import Ticket
from tickets.services import import_csv

HEADER = "ticket_external_id,kind,score,comment,answered_at\n"


@pytest.fixture
def history(db, agent):
    team = factories.TeamFactory()
    return [
        factories.TicketFactory(
            external_id=f"T-{n}", assignee=agent, team=team, status=Ticket.Status.CLOSED
        )
        for n in (1, 2)
    ]


def _import(text: str, **kwargs):
    return import_csv(kind="surveys", source=io.BytesIO(text.encode()), **kwargs)


def test_historical_answers_are_imported_with_their_time_and_credit(history, agent):
    # when
    result = _import(
        HEADER + "T-1,csat,4,Fine,2024-05-01T10:00:00Z\n"
        "T-1,nps,9,,2024-05-02\n"
        'T-2,CSAT,1,"Slow, very",2024-05-03T08:30:00+02:00\n'
    )

    # then
    assert (result.written, result.created, result.updated, result.errors) == (True, 3, 0, [])
    rows = SurveyResponse.objects.order_by("answered_at").values_list(
        "invitation__ticket__external_id",
        "invitation__kind",
        "invitation__scale",
        "score",
        "comment",
        "answered_at",
    )
    assert list(rows) == [
        ("T-1", "csat", "stars", 4, "Fine", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("T-1", "nps", "zero_to_ten", 9, "", datetime(2024, 5, 2, tzinfo=UTC)),
        ("T-2", "csat", "stars", 1, "Slow, very", datetime(2024, 5, 3, 6, 30, tzinfo=UTC)),
    ]
    invitation = SurveyInvitation.objects.get(ticket=history[0], kind="csat")
    assert invitation.created_at == invitation.sent_at == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert (invitation.agent, invitation.team, invitation.customer) == (
        agent,
        history[0].team,
        history[0].customer,
    )


def test_importing_again_updates_the_answers_in_place(history):
    _import(HEADER + "T-1,csat,4,Fine,2024-05-01\n")

    again = _import(HEADER + "T-1,csat,5,Great,2024-05-01\nT-2,csat,3,,2024-05-01\n")

    assert (again.created, again.updated) == (1, 1)
    assert SurveyInvitation.objects.count() == 2
    assert list(SurveyResponse.objects.order_by("score").values_list("score", "comment")) == [
        (3, ""),
        (5, "Great"),
    ]


def test_a_file_without_the_comment_column_keeps_stored_comments(history):
    _import(HEADER + "T-1,csat,4,Fine,2024-05-01\n")

    _import("ticket_external_id,kind,score,answered_at\nT-1,csat,2,2024-05-01\n")

    assert list(SurveyResponse.objects.values_list("score", "comment")) == [(2, "Fine")]


def test_a_file_with_errors_imports_nothing_and_names_each_line(history):
    result = _import(
        HEADER + "T-1,csat,4,,2024-05-01\n"  # line 2: fine
        "T-9,csat,4,,2024-05-01\n"  # line 3: unknown ticket
        "T-2,csat,7,,2024-05-01\n"  # line 4: off the CSAT scale
        "T-2,nps,11,,2024-05-01\n"  # line 5: off the NPS scale
        "T-2,ces,3,,2024-05-01\n"  # line 6: unknown kind
        "T-1,nps,3,,yesterday\n"  # line 7: bad date
        "T-1,CSAT,5,,2024-05-02\n"  # line 8: same ticket and kind as line 2
    )

    assert result.written is False
    assert result.errors == [
        "line 3: ticket_external_id: no ticket with this external_id",
        "line 4: score: a CSAT score must be from 1 to 5",
        "line 5: score: must be at most 10",
        "line 6: kind: must be one of: csat, nps",
        "line 7: answered_at: not an ISO 8601 date or date-time",
        "line 8: ticket_external_id: duplicate of line 2",
    ]
    assert not SurveyInvitation.objects.exists()


def test_skip_invalid_imports_the_valid_rows(history):
    result = _import(HEADER + "T-1,csat,4,,2024-05-01\nT-9,csat,4,,2024-05-01\n", skip_invalid=True)

    assert (result.written, result.created, result.invalid_rows) == (True, 1, 1)
    assert SurveyResponse.objects.count() == 1


def test_a_missing_required_column_refuses_the_file(history):
    result = _import("ticket_external_id,kind,score\nT-1,csat,4\n")

    assert result.errors == ["line 1: header: missing required columns: answered_at"]


def test_imported_tickets_are_not_surveyed_again(history):
    Ticket.objects.update(solved_at=datetime.now(UTC) - timedelta(hours=1))
    _import(HEADER + "T-1,csat,4,,2024-05-01\n")

    services.invite_solved_tickets()

    invited = SurveyInvitation.objects.values_list("ticket__external_id", "kind")
    assert sorted(invited) == [("T-1", "csat"), ("T-2", "csat")]


def test_the_import_data_command_imports_surveys(history, tmp_path):
    path = tmp_path / "surveys.csv"
    path.write_text(HEADER + "T-1,csat,4,Fine,2024-05-01\n")
    out = io.StringIO()

    call_command("import_data", "surveys", str(path), stdout=out)

    assert "surveys: 1 rows, created=1 updated=0 invalid=0" in out.getvalue()
    assert SurveyResponse.objects.get().score == 4


def test_the_import_data_command_fails_on_errors(history, tmp_path):
    path = tmp_path / "surveys.csv"
    path.write_text(HEADER + "T-9,csat,4,,2024-05-01\n")

    with pytest.raises(CommandError):
        call_command(
            "import_data", "surveys", str(path), stdout=io.StringIO(), stderr=io.StringIO()
        )
