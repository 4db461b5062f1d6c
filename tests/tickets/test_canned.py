"""Canned replies: placeholders, sending, suggestions."""

import pytest
from django.core.exceptions import ValidationError

from helpdesk.models import AuditLog
from tests import factories
from tests.tickets.views_support import only_test_extensions
from tickets import extensions
from tickets.extensions import Badge
from tickets.models import CannedReply, Message
from tickets.services.canned import (
    render_placeholders,
    save_canned_reply,
    send_canned_reply,
    suggested_canned_replies,
    unknown_placeholders,
)

__all__ = ["only_test_extensions"]

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("only_test_extensions")]

VIP = Badge(group="Value", group_slug="value", label="VIP", slug="vip")


@pytest.fixture
def vip_customers(monkeypatch):
    """Every customer is in value/vip."""
    extensions.register_badge_provider(lambda ids: {pk: [VIP] for pk in ids})


def _reply(lead, body="Hi", *, title="Hello", owner=None, segments=(), folder=""):
    return save_canned_reply(
        canned_reply=None,
        title=title,
        body=body,
        folder=folder,
        owner=owner,
        segment_slugs=segments,
        actor=lead,
    )


@pytest.mark.parametrize(
    ("body", "unknown"),
    [
        ("Hi {{ customer.first_name }}, re #{{ticket.number}}", []),
        ("{{ custom.contract_id }} {{ segment.name }} {{ agent.name }}", []),
        ("{{ customer.password }}", ["customer.password"]),
        ("{{ customer.first_name|upper }}", ["customer.first_name|upper"]),
        ("{% load os %}{{ settings.SECRET_KEY }}", ["settings.SECRET_KEY"]),
        ("{{ custom. }}{{ }}", ["custom.", ""]),
    ],
)
def test_only_whitelisted_placeholders_are_known(body, unknown):
    assert unknown_placeholders(body) == unknown


def test_rendering_replaces_values_as_plain_text_and_never_runs_templates():
    body = "Hi {{ customer.first_name }} {% if 1 %}x{% endif %} {{ custom.missing }}."
    rendered = render_placeholders(body, {"customer.first_name": "<b>Ann</b>"})
    assert rendered == "Hi <b>Ann</b> {% if 1 %}x{% endif %} ."


def test_an_unknown_placeholder_is_refused_at_save_time_with_the_list_of_known_ones(lead):
    with pytest.raises(ValidationError) as error:
        _reply(lead, "Dear {{ customer.surname }}")
    message = error.value.message_dict["body"][0]
    assert "Unknown placeholder {{ customer.surname }}" in message
    assert "{{ customer.first_name }}" in message
    assert not CannedReply.objects.exists()


def test_bad_segment_slugs_are_refused(lead):
    with pytest.raises(ValidationError, match="segmentation/segment"):
        _reply(lead, segments=["vip"])


def test_an_agent_sends_a_rendered_reply_that_counts_as_first_response(lead, vip_customers):
    # given
    agent = factories.AgentFactory(first_name="Sam", last_name="Lee")
    customer = factories.CustomerFactory(name="Ann Smith", custom_fields={"plan_code": "P7"})
    ticket = factories.TicketFactory(customer=customer, subject="Refund")
    reply = _reply(
        lead,
        "Hi {{ customer.first_name }}, {{ agent.name }} here about #{{ ticket.number }} "
        "({{ ticket.subject }}, {{ segment.name }}, {{ custom.plan_code }}).",
    )

    # when
    message = send_canned_reply(ticket=ticket, canned_reply=reply, author=agent, cause="agent")

    # then
    assert message.body_text == (f"Hi Ann, Sam Lee here about #{ticket.pk} (Refund, VIP, P7).")
    assert message.kind == Message.Kind.OUTBOUND and message.author == agent
    ticket.refresh_from_db()
    reply.refresh_from_db()
    assert ticket.first_response_at is not None
    assert reply.usage_count == 1
    assert AuditLog.objects.get(action="canned_reply_sent").cause == "agent"


def test_a_rule_sends_an_automatic_reply_that_is_not_a_first_response(lead):
    ticket = factories.TicketFactory(customer=factories.CustomerFactory(name="Bo"))
    reply = _reply(lead, "Thanks {{ customer.first_name }}, we got it.")

    message = send_canned_reply(ticket=ticket, canned_reply=reply, cause="rule: Welcome")

    assert message.body_text == "Thanks Bo, we got it."
    assert message.author is None
    assert message.headers["Auto-Submitted"] == "auto-replied"
    ticket.refresh_from_db()
    assert ticket.first_response_at is None


def test_suggestions_rank_the_customers_segments_then_unscoped_then_others_by_usage(lead, agent):
    # given
    other = _reply(lead, title="Other segment", segments=["value/low"])
    plain_popular = _reply(lead, title="Plain popular")
    plain = _reply(lead, title="Plain")
    vip = _reply(lead, title="VIP", segments=["value/vip", "plan/pro"])
    near_miss = _reply(lead, title="Gold plus", segments=["value/vip-plus"])
    CannedReply.objects.filter(pk=plain_popular.pk).update(usage_count=5)
    CannedReply.objects.filter(pk=other.pk).update(usage_count=50)

    # when
    found = suggested_canned_replies(user=agent, segment_slugs=["value/vip"])

    # then
    # "value/vip-plus" is another segment, not a prefix match of "value/vip"
    assert found == [vip, plain_popular, plain, other, near_miss]


def test_suggestions_show_shared_and_own_replies_only_and_search_text(lead, agent):
    shared = _reply(lead, "About refunds", title="Refund")
    mine = _reply(lead, "Refund, personally", title="My refund", owner=agent)
    _reply(lead, "Refund of someone else", title="Theirs", owner=lead)
    _reply(lead, "Shipping", title="Shipping")

    found = suggested_canned_replies(user=agent, segment_slugs=[], query="refund")

    assert sorted(r.pk for r in found) == sorted([shared.pk, mine.pk])


def test_suggestions_cost_one_query(lead, agent, django_assert_num_queries):
    for n in range(10):
        _reply(lead, title=f"Reply {n}", segments=[f"value/s{n}"])
    with django_assert_num_queries(1):
        suggested_canned_replies(user=agent, segment_slugs=["value/s1", "value/s2"], query="R")
