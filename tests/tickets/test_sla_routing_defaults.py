"""Defaults routing applies when no rule decides: the default SLA policy, the channel's team."""

import pytest

from tests import factories
from tickets.models import ChannelTeam, SLAPolicy, Ticket
from tickets.services.tickets import route_ticket

pytestmark = pytest.mark.django_db


def _unrouted(**fields):
    ticket = factories.TicketFactory(routed_at=None, **fields)
    factories.MessageFactory(ticket=ticket)
    return ticket


def test_a_new_ticket_gets_the_default_policy_and_its_due_times():
    policy = SLAPolicy.objects.create(name="24/7", is_default=True)
    policy.targets.create(priority="normal", first_response_minutes=60)
    ticket = _unrouted()

    route_ticket(ticket_id=ticket.pk)

    ticket.refresh_from_db()
    assert ticket.sla_policy == policy
    assert (ticket.first_response_due_at - ticket.created_at).total_seconds() == 3600


def test_without_a_default_policy_a_new_ticket_has_no_due_times():
    ticket = _unrouted()

    route_ticket(ticket_id=ticket.pk)

    ticket.refresh_from_db()
    assert ticket.sla_policy is None
    assert (ticket.first_response_due_at, ticket.resolution_due_at) == (None, None)


def test_a_channel_without_mailbox_team_goes_to_the_channels_team():
    chat_team = factories.TeamFactory(name="Chat")
    ChannelTeam.objects.create(channel=Ticket.Channel.CHAT, team=chat_team)
    chat = _unrouted(channel=Ticket.Channel.CHAT)
    phone = _unrouted(channel=Ticket.Channel.PHONE)

    route_ticket(ticket_id=chat.pk)
    route_ticket(ticket_id=phone.pk)

    chat.refresh_from_db()
    phone.refresh_from_db()
    assert chat.team == chat_team
    assert phone.team is None


def test_the_mailbox_team_comes_before_the_channel_team():
    mailbox_team = factories.TeamFactory(name="Mailbox team")
    ChannelTeam.objects.create(channel=Ticket.Channel.EMAIL, team=factories.TeamFactory())
    ticket = _unrouted(mailbox=factories.MailboxFactory(team=mailbox_team))

    route_ticket(ticket_id=ticket.pk)

    ticket.refresh_from_db()
    assert ticket.team == mailbox_team
