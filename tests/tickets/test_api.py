"""The tickets API: authentication, listing with filters, opening, changing, replying."""

import pytest
from django.core import mail
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from helpdesk.models import AuditLog
from tests import factories
from tests.api_clients import token_client
from tickets.models import Customer, Message, Ticket

TICKETS = "/api/tickets/"


def _detail(ticket: Ticket, suffix: str = "") -> str:
    return f"{TICKETS}{ticket.pk}/{suffix}"


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


# Authentication


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", TICKETS),
        ("post", TICKETS),
        ("get", "/api/customers/"),
        ("post", "/api/purchases/"),
        ("get", "/api/tags/"),
        ("get", "/api/schema/"),
    ],
)
def test_requests_without_credentials_are_refused(db, method, path):
    response = getattr(APIClient(), method)(path, {}, format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_token_authenticates_an_agent(api, ticket):
    assert _ids(api.get(TICKETS)) == [ticket.pk]


def test_a_wrong_token_is_refused(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    assert client.get(TICKETS).status_code == 401


def test_a_token_of_a_user_without_a_role_is_refused(db):
    user = factories.UserFactory()
    client = token_client(Token.objects.create(user=user))

    assert client.get(TICKETS).status_code == 403


def test_session_authentication_enforces_csrf_on_writes(agent):
    # given a logged-in browser session
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    payload = {"customer_email": "ann@example.com", "subject": "Hi", "body_text": "Hello"}

    # when it posts without and then with the CSRF token
    refused = client.post(TICKETS, payload, content_type="application/json")
    secret = "a" * 32
    client.cookies["csrftoken"] = secret
    accepted = client.post(
        TICKETS, payload, content_type="application/json", HTTP_X_CSRFTOKEN=secret
    )

    # then
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert accepted.status_code == 201
    assert client.get(TICKETS).status_code == 200


# Creating


def test_creating_a_ticket_creates_the_customer_by_email(
    api, agent, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            TICKETS,
            {
                "customer_email": "new.person@example.com",
                "customer_name": "New Person",
                "subject": "Cannot log in",
                "body_text": "The login page spins forever.",
                "priority": "high",
                "tags": ["Login", "web"],
            },
            format="json",
        )

    # then
    assert response.status_code == 201, response.content
    body = response.json()
    ticket = Ticket.objects.get(pk=body["id"])
    assert body["number"] == ticket.pk
    assert body["channel"] == Ticket.Channel.API
    assert body["priority"] == "high"
    assert sorted(body["tags"]) == ["login", "web"]
    assert body["customer"]["email"] == "new.person@example.com"
    assert ticket.customer.name == "New Person"
    first = ticket.messages.get()
    assert (first.kind, first.body_text) == (Message.Kind.INBOUND, "The login page spins forever.")
    assert ticket.routed_at is not None
    created = AuditLog.objects.get(action="ticket_created", target_id=ticket.pk)
    assert created.actor == agent


def test_a_chat_ticket_reuses_the_customer_whatever_the_case_of_the_address(api, customer):
    response = api.post(
        TICKETS,
        {
            "customer_email": customer.email.upper(),
            "subject": "Chat transcript",
            "body_text": "Visitor: hello",
            "channel": "chat",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["customer"]["id"] == customer.pk
    assert response.json()["channel"] == "chat"
    assert Customer.objects.count() == 1


def test_a_ticket_can_be_created_with_team_and_assignee(api, agent, customer):
    team = factories.TeamFactory()

    response = api.post(
        TICKETS,
        {
            "customer_email": customer.email,
            "subject": "Phone call",
            "body_text": "Called about the invoice",
            "channel": "phone",
            "team": team.pk,
            "assignee": agent.pk,
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["team"]["id"] == team.pk
    assert response.json()["assignee"]["id"] == agent.pk


def test_a_ticket_cannot_be_assigned_to_a_user_without_a_role(api, customer):
    outsider = factories.UserFactory()

    response = api.post(
        TICKETS,
        {
            "customer_email": customer.email,
            "subject": "S",
            "body_text": "B",
            "assignee": outsider.pk,
        },
        format="json",
    )

    assert response.status_code == 400
    assert "assignee" in response.json()


def test_creating_a_ticket_reports_every_missing_field(api):
    response = api.post(TICKETS, {}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"customer_email", "subject", "body_text"}
    assert not Ticket.objects.exists()


# Listing


@pytest.fixture
def inbox(agent):
    """Tickets that differ in exactly one filtered property each."""
    other_agent = factories.AgentFactory()
    team = factories.TeamFactory()
    customer = factories.CustomerFactory()
    billing = factories.TagFactory(name="billing")
    tickets = {
        "plain": factories.TicketFactory(subject="Plain question"),
        "mine": factories.TicketFactory(subject="Mine", assignee=agent, status="open"),
        "other": factories.TicketFactory(subject="Theirs", assignee=other_agent, status="open"),
        "team": factories.TicketFactory(subject="Team work", team=team, status="pending"),
        "tagged": factories.TicketFactory(subject="Tagged", status="solved"),
        "chat": factories.TicketFactory(subject="Chat", channel="chat", status="closed"),
        "urgent": factories.TicketFactory(subject="Urgent", priority="urgent"),
        "customer": factories.TicketFactory(subject="Known", customer=customer),
        "searched": factories.TicketFactory(
            subject="Something", search_document="Something\nrefund for the blue kettle"
        ),
    }
    tickets["tagged"].tags.add(billing)
    return {"tickets": tickets, "agent": other_agent, "team": team, "customer": customer}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=open", {"mine", "other"}),
        ("status=active", {"plain", "mine", "other", "team", "urgent", "customer", "searched"}),
        ("status=closed", {"chat"}),
        ("assignee=mine", {"mine"}),
        ("assignee=<agent>", {"other"}),
        ("team=<team>", {"team"}),
        ("tag=billing", {"tagged"}),
        ("tag=Billing", {"tagged"}),
        ("channel=chat", {"chat"}),
        ("priority=urgent", {"urgent"}),
        ("customer=<customer>", {"customer"}),
        ("q=kettle", {"searched"}),
        ("status=open&assignee=mine", {"mine"}),
    ],
)
def test_the_ticket_list_filters(api, inbox, query, expected):
    query = (
        query.replace("<agent>", str(inbox["agent"].pk))
        .replace("<team>", str(inbox["team"].pk))
        .replace("<customer>", str(inbox["customer"].pk))
    )
    by_id = {ticket.pk: name for name, ticket in inbox["tickets"].items()}

    found = {by_id[pk] for pk in _ids(api.get(f"{TICKETS}?{query}"))}

    assert found == expected


def test_unassigned_filter_and_no_filter(api, inbox):
    everything = set(_ids(api.get(TICKETS)))
    unassigned = set(_ids(api.get(f"{TICKETS}?assignee=unassigned")))

    assert everything == {ticket.pk for ticket in inbox["tickets"].values()}
    assert unassigned == everything - {
        inbox["tickets"]["mine"].pk,
        inbox["tickets"]["other"].pk,
    }


def test_the_ticket_list_pages_by_fifty_newest_first(api):
    factories.TicketFactory.create_batch(55)

    first = api.get(TICKETS).json()
    second = api.get(first["next"]).json()

    assert first["count"] == 55
    assert len(first["results"]) == 50
    assert len(second["results"]) == 5
    assert second["next"] is None
    updated = [row["updated_at"] for row in first["results"] + second["results"]]
    assert updated == sorted(updated, reverse=True)


def _add_tickets(count: int) -> None:
    team = factories.TeamFactory()
    agent = factories.AgentFactory()
    for _ in range(count):
        ticket = factories.TicketFactory(team=team, assignee=agent)
        ticket.tags.add(factories.TagFactory(), factories.TagFactory())


def test_the_ticket_list_query_count_does_not_grow_with_rows(
    api, django_assert_max_num_queries, django_assert_num_queries
):
    _add_tickets(2)
    api.get(TICKETS)  # warms the process's directory snapshot, as every request after the first
    with django_assert_max_num_queries(6) as queries:
        assert len(_ids(api.get(TICKETS))) == 2
    few = len(queries.captured_queries)  # read before the next request resets the log
    _add_tickets(30)
    api.get(TICKETS)

    with django_assert_num_queries(few):
        assert len(_ids(api.get(TICKETS))) == 32


# Reading and changing one ticket


def test_a_ticket_is_read_by_id(api, ticket):
    response = api.get(_detail(ticket))

    assert response.status_code == 200
    assert response.json()["subject"] == ticket.subject
    assert response.json()["customer"]["id"] == ticket.customer_id


def test_a_missing_ticket_is_404(api):
    assert api.get(f"{TICKETS}999999/").status_code == 404
    assert api.patch(f"{TICKETS}999999/", {"status": "open"}, format="json").status_code == 404


def test_patch_changes_fields_and_records_who_changed_them(api, agent, ticket):
    # given
    team = factories.TeamFactory()

    # when
    response = api.patch(
        _detail(ticket),
        {
            "status": "solved",
            "priority": "urgent",
            "assignee": agent.pk,
            "team": team.pk,
            "tags": ["vip", "refund"],
            "subject": "Refund request",
        },
        format="json",
    )

    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "solved"
    assert body["solved_at"] is not None
    assert (body["priority"], body["subject"]) == ("urgent", "Refund request")
    assert (body["assignee"]["id"], body["team"]["id"]) == (agent.pk, team.pk)
    assert sorted(body["tags"]) == ["refund", "vip"]
    change = AuditLog.objects.get(action="ticket_updated", target_id=ticket.pk)
    assert change.actor == agent
    assert set(change.changes) >= {"status", "priority", "assignee", "team", "tags", "subject"}


def test_patch_clears_the_assignee_with_null(api, agent):
    ticket = factories.TicketFactory(assignee=agent)

    response = api.patch(_detail(ticket), {"assignee": None}, format="json")

    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_put_is_not_offered_for_tickets(api, ticket):
    assert api.put(_detail(ticket), {"status": "open"}, format="json").status_code == 405


# Thread, replies and notes


def test_the_thread_lists_every_message_oldest_first(api, agent, ticket):
    note = factories.MessageFactory(ticket=ticket, kind=Message.Kind.NOTE, author=agent)

    response = api.get(_detail(ticket, "messages/"))

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["id"] for row in rows] == [ticket.messages.first().pk, note.pk]
    assert rows[1]["kind"] == "note"
    assert rows[1]["author"]["username"] == agent.username


def test_the_thread_of_a_missing_ticket_is_404(api):
    assert api.get(f"{TICKETS}999999/messages/").status_code == 404


def test_the_thread_query_count_does_not_grow_with_messages(
    api, agent, ticket, django_assert_max_num_queries, django_assert_num_queries
):
    api.get(_detail(ticket, "messages/"))  # warms the process's directory snapshot
    with django_assert_max_num_queries(7) as few:
        api.get(_detail(ticket, "messages/"))
    factories.MessageFactory.create_batch(20, ticket=ticket, author=agent)

    with django_assert_num_queries(len(few.captured_queries)):
        assert len(api.get(_detail(ticket, "messages/")).json()["results"]) == 21


def test_a_reply_is_emailed_to_the_customer_and_can_set_the_status(
    api, agent, ticket, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            _detail(ticket, "reply/"),
            {"body_text": "We refunded you.", "status": "pending"},
            format="json",
        )

    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "outbound"
    assert response.json()["author"]["id"] == agent.pk
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.PENDING
    assert ticket.first_response_at is not None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [ticket.customer.email]


def test_an_internal_note_is_not_emailed(api, ticket, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(_detail(ticket, "notes/"), {"body_text": "VIP"}, format="json")

    assert response.status_code == 201
    assert response.json()["kind"] == "note"
    assert ticket.messages.filter(kind=Message.Kind.NOTE, body_text="VIP").exists()
    assert mail.outbox == []


@pytest.mark.parametrize("suffix", ["reply/", "notes/"])
def test_an_empty_reply_or_note_is_a_field_error(api, ticket, suffix):
    response = api.post(_detail(ticket, suffix), {"body_text": "  "}, format="json")

    assert response.status_code == 400
    assert "body_text" in response.json()
    assert ticket.messages.count() == 1
