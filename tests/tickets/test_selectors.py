from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.tickets.views_support import only_test_extensions, register_vip_segment_filter
from tickets import extensions, selectors, services
from tickets.extensions import Badge
from tickets.models import Message, Ticket

__all__ = ["only_test_extensions"]

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("only_test_extensions")]


def _ticket(minutes_ago=0, **kwargs):
    at = timezone.now() - timedelta(minutes=minutes_ago)
    return factories.TicketFactory(created_at=at, updated_at=at, **kwargs)


def _ids(page):
    return [ticket.pk for ticket in page.rows]


def _inbox(user, **filters):
    return _ids(selectors.inbox_page(user=user, filters=filters))


class TestInboxFilters:
    def test_without_filters_shows_active_tickets_most_recently_updated_first(self, agent):
        older = _ticket(minutes_ago=10, status=Ticket.Status.OPEN)
        newer = _ticket(minutes_ago=1, status=Ticket.Status.NEW)
        _ticket(status=Ticket.Status.SOLVED)
        _ticket(status=Ticket.Status.CLOSED)

        assert _inbox(agent) == [newer.pk, older.pk]

    def test_status_any_and_one_status(self, agent):
        open_ = _ticket(minutes_ago=2, status=Ticket.Status.OPEN)
        solved = _ticket(minutes_ago=1, status=Ticket.Status.SOLVED)

        assert _inbox(agent, status="any") == [solved.pk, open_.pk]
        assert _inbox(agent, status="solved") == [solved.pk]

    def test_assignee_mine_unassigned_and_a_named_agent(self, agent):
        other = factories.AgentFactory()
        mine = _ticket(minutes_ago=3, assignee=agent)
        theirs = _ticket(minutes_ago=2, assignee=other)
        nobodys = _ticket(minutes_ago=1)

        assert _inbox(agent, assignee="mine") == [mine.pk]
        assert _inbox(agent, assignee="unassigned") == [nobodys.pk]
        assert _inbox(agent, assignee=str(other.pk)) == [theirs.pk]

    def test_team_channel_priority_and_customer(self, agent):
        team = factories.TeamFactory()
        in_team = _ticket(team=team)
        chat = _ticket(channel=Ticket.Channel.CHAT)
        urgent = _ticket(priority=Ticket.Priority.URGENT)
        _ticket()

        assert _inbox(agent, team=team.pk) == [in_team.pk]
        assert _inbox(agent, channel="chat") == [chat.pk]
        assert _inbox(agent, priority="urgent") == [urgent.pk]
        assert _inbox(agent, customer=chat.customer_id) == [chat.pk]

    def test_tag(self, agent):
        tagged = _ticket()
        tagged.tags.set([factories.TagFactory(name="refund"), factories.TagFactory(name="vip")])
        _ticket().tags.set([factories.TagFactory(name="other")])

        assert _inbox(agent, tag="refund") == [tagged.pk]

    def test_search_finds_subject_and_message_text_on_sqlite(self, agent, customer):
        by_subject = services.create_ticket(
            customer=customer, subject="Invoice missing", body_text="Hello"
        )
        by_reply = services.create_ticket(customer=customer, subject="Hi", body_text="Hello")
        services.record_inbound_message(ticket=by_reply, body_text="my INVOICE was wrong")
        services.create_ticket(customer=customer, subject="Login", body_text="cannot log in")

        assert sorted(_inbox(agent, q="invoice")) == sorted([by_subject.pk, by_reply.pk])

    def test_contributed_customer_filter_narrows_by_customer(self, agent, monkeypatch):
        vip = factories.CustomerFactory()
        wanted = _ticket(customer=vip)
        _ticket()
        register_vip_segment_filter(vip)

        assert _inbox(agent, segment="vip") == [wanted.pk]
        assert len(_inbox(agent)) == 2


class TestInboxSortingAndPaging:
    def test_sort_by_created_and_by_priority(self, agent):
        low_new = _ticket(minutes_ago=1, priority=Ticket.Priority.LOW)
        urgent_old = _ticket(minutes_ago=30, priority=Ticket.Priority.URGENT)
        high_mid = _ticket(minutes_ago=10, priority=Ticket.Priority.HIGH)
        # updated recently, created long ago
        urgent_old.updated_at = timezone.now()
        urgent_old.save(update_fields=["updated_at"])

        assert _inbox(agent, sort="created") == [low_new.pk, high_mid.pk, urgent_old.pk]
        assert _inbox(agent, sort="priority") == [urgent_old.pk, high_mid.pk, low_new.pk]
        assert _inbox(agent, sort="updated") == [urgent_old.pk, low_new.pk, high_mid.pk]

    @pytest.mark.skipif(
        connection.vendor != "postgresql", reason="indexes for scale; SQLite serves the demo"
    )
    def test_the_priority_sort_is_served_by_the_partial_expression_index(self, agent):
        with connection.cursor() as cursor:
            # A near-empty test table would otherwise be scanned whatever the indexes.
            cursor.execute("SET LOCAL enable_seqscan = off")

        plan = selectors.inbox_tickets(user=agent, filters={"sort": "priority"})[:51].explain()

        assert "ticket_active_priority" in plan

    def test_pages_of_fifty_say_whether_a_next_page_exists(self, agent):
        tickets = [_ticket(minutes_ago=i) for i in range(101)]

        first = selectors.inbox_page(user=agent, filters={}, page=1)
        third = selectors.inbox_page(user=agent, filters={}, page=3)

        assert len(first.rows) == 50 and first.has_next and not first.has_previous
        assert _ids(third) == [tickets[100].pk]
        assert not third.has_next and third.has_previous

    def test_exactly_one_full_page_has_no_next(self, agent):
        for i in range(50):
            _ticket(minutes_ago=i)

        page = selectors.inbox_page(user=agent, filters={}, page=1)

        assert len(page.rows) == 50 and not page.has_next


class TestInboxRows:
    def test_preview_is_the_latest_public_message_not_a_note(self, agent):
        ticket = _ticket()
        now = timezone.now()
        factories.MessageFactory(ticket=ticket, body_text="first", created_at=now)
        factories.MessageFactory(
            ticket=ticket,
            kind=Message.Kind.OUTBOUND,
            body_text="our answer",
            created_at=now + timedelta(seconds=1),
        )
        factories.MessageFactory(
            ticket=ticket,
            kind=Message.Kind.NOTE,
            body_text="secret",
            created_at=now + timedelta(seconds=2),
        )

        (row,) = selectors.inbox_page(user=agent, filters={}).rows

        assert row.preview == "our answer"

    def test_a_row_carries_what_the_inbox_shows(self, agent):
        # given
        team = factories.TeamFactory(name="Billing")
        ticket = _ticket(
            subject="Refund",
            status=Ticket.Status.ON_HOLD,
            priority=Ticket.Priority.HIGH,
            channel=Ticket.Channel.CHAT,
            customer=factories.CustomerFactory(name="", email="ann@example.com"),
            team=team,
            assignee=factories.AgentFactory(first_name="Bo", last_name="Li"),
        )
        ticket.tags.set([factories.TagFactory(name="vip"), factories.TagFactory(name="billing")])
        untouched = _ticket(minutes_ago=5)

        # when
        first, second = selectors.inbox_page(user=agent, filters={}).rows

        # then
        url = reverse("tickets:ticket", args=[ticket.pk])
        assert (first.pk, first.url, first.subject) == (ticket.pk, url, "Refund")
        assert (first.status_label, first.priority_label, first.channel_label) == (
            "On hold",
            "High",
            "Chat",
        )
        assert (first.customer_name, first.team_name, first.assignee_name) == (
            "ann@example.com",
            "Billing",
            "Bo Li",
        )
        assert first.tag_names == ["billing", "vip"] and first.sla is None
        assert (second.pk, second.tag_names, second.assignee_name) == (untouched.pk, [], "")

    def test_a_row_has_the_sla_state_of_its_next_target(self, agent):
        due = timezone.now() + timedelta(minutes=20)
        _ticket(first_response_due_at=due)

        (row,) = selectors.inbox_page(user=agent, filters={}).rows

        assert row.sla == selectors.SLADue("due_soon", "first response", due)

    def test_badges_come_from_one_provider_call_per_page(self, agent):
        first, second = _ticket(), _ticket()
        calls = []

        def provider(ids):
            calls.append(list(ids))
            return {
                first.customer_id: [Badge(group="Value", group_slug="v", label="Big", slug="b")]
            }

        extensions.register_badge_provider(provider)

        page = selectors.inbox_page(user=agent, filters={})

        assert calls == [sorted([first.customer_id, second.customer_id])]
        assert dict((t.pk, [b.label for b in badges]) for t, badges in page.entries) == {
            first.pk: ["Big"],
            second.pk: [],
        }


class TestTicketDetail:
    def test_thread_history_and_customer_sidebar(self, agent):
        customer = factories.CustomerFactory()
        ticket = services.create_ticket(customer=customer, subject="Help", body_text="Please")
        services.add_internal_note(ticket=ticket, author=agent, body_text="check logs")
        services.update_ticket(ticket=ticket, actor=agent, status=Ticket.Status.PENDING)
        earlier = _ticket(minutes_ago=60, customer=customer)
        factories.PurchaseFactory(customer=customer, amount=Decimal("10.00"))

        detail = selectors.ticket_detail(user=agent, ticket_id=ticket.pk)

        assert [m.kind for m in detail.thread] == ["inbound", "note"]
        assert [entry.action for entry in detail.history] == ["ticket_created", "ticket_updated"]
        assert [t.pk for t in detail.recent_tickets] == [earlier.pk]
        assert len(detail.purchases) == 1

    def test_missing_ticket_raises(self, agent):
        with pytest.raises(Ticket.DoesNotExist):
            selectors.ticket_detail(user=agent, ticket_id=999_999)


class TestCustomers:
    def test_search_by_name_or_email_and_filter_by_tag(self, agent):
        ann = factories.CustomerFactory(name="Ann Lee", email="ann@shop.example")
        bob = factories.CustomerFactory(name="Bob", email="bob@lee-corp.example")
        factories.CustomerFactory(name="Cy", email="cy@example.com")
        ann.tags.set([factories.TagFactory(name="vip")])

        def names(**filters):
            return [c.name for c in selectors.customer_list_page(user=agent, filters=filters).rows]

        assert names(q="lee") == ["Ann Lee", "Bob"]
        assert names(tag="vip") == ["Ann Lee"]
        assert names(q="BOB@") == [bob.name]

    def test_rows_carry_ticket_counts_and_page_has_next(self, agent):
        customers = [factories.CustomerFactory(name=f"C{i:02d}") for i in range(51)]
        _ticket(customer=customers[0])
        _ticket(customer=customers[0])

        page = selectors.customer_list_page(user=agent, filters={})

        assert page.has_next and len(page.rows) == 50
        assert page.rows[0].ticket_count == 2 and page.rows[1].ticket_count is None

    def test_profile_totals_purchases_and_lists_recent_tickets(self, agent):
        customer = factories.CustomerFactory()
        factories.PurchaseFactory(customer=customer, amount=Decimal("10.50"))
        factories.PurchaseFactory(customer=customer, amount=Decimal("4.50"))
        tickets = [_ticket(minutes_ago=i, customer=customer) for i in range(3)]

        profile = selectors.customer_profile(user=agent, customer_id=customer.pk, rows=2)

        assert profile.purchase_count == 2 and profile.purchase_total == Decimal("15.00")
        assert profile.ticket_count == 3
        assert [t.pk for t in profile.tickets] == [tickets[0].pk, tickets[1].pk]


class TestOrganisations:
    def test_list_searches_name_and_domain_and_counts_customers(self):
        acme = factories.OrganisationFactory(name="Acme")
        factories.OrganisationDomainFactory(organisation=acme, domain="acme.example")
        globex = factories.OrganisationFactory(name="Globex")
        factories.OrganisationDomainFactory(organisation=globex, domain="globex.example")
        factories.CustomerFactory(organisation=acme)
        factories.CustomerFactory(organisation=acme)

        def names(query):
            return [o.name for o in selectors.organisation_list_page(query=query).rows]

        assert names("acme") == ["Acme"]
        assert names("globex.ex") == ["Globex"]
        rows = selectors.organisation_list_page().rows
        assert {o.name: o.customer_count for o in rows} == {"Acme": 2, "Globex": None}

    def test_page_shows_its_customers_and_their_tickets(self, agent):
        acme = factories.OrganisationFactory(name="Acme")
        member = factories.CustomerFactory(organisation=acme)
        ticket = _ticket(customer=member)
        _ticket()

        page = selectors.organisation_page(user=agent, organisation_id=acme.pk)

        assert [c.pk for c in page.customers.rows] == [member.pk]
        assert [t.pk for t in page.tickets] == [ticket.pk]
        assert not page.customers.has_next
