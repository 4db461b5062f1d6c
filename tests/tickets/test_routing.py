"""The pure part of routing: cleaning rule rows, every operator, every action, the evaluation
order, selective activation and the context. No database."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from tickets import routing
from tickets.models import Customer, Mailbox, Organisation, RoutingRule, Ticket
from tickets.sla import OpeningHours

CATALOG = routing.Catalog(
    teams=frozenset({"tier-2", "billing"}),
    mailboxes=frozenset({"support", "sales"}),
    segments=frozenset({"value/vip"}),
)
CREATED = RoutingRule.Event.TICKET_CREATED
REPLIED = RoutingRule.Event.CUSTOMER_REPLIED
SEGMENT_CHANGED = RoutingRule.Event.SEGMENT_CHANGED
ALL_EVENTS = [CREATED, REPLIED, SEGMENT_CHANGED]
BERLIN_OFFICE = OpeningHours(
    timezone=ZoneInfo("Europe/Berlin"),
    weekdays=frozenset(range(1, 6)),
    opens_at=time(9),
    closes_at=time(17),
    holidays=frozenset({date(2025, 12, 25)}),
)


def rule(conditions=(), actions=(("set_priority", "high"),), **fields) -> routing.CompiledRule:
    stored = RoutingRule(
        name=fields.pop("name", "rule"),
        match=fields.pop("match", "all"),
        events=fields.pop("events", ALL_EVENTS),
        conditions=routing.clean_conditions(
            [{"field": f, "operator": o, "value": v} for f, o, v in conditions], CATALOG
        ),
        actions=routing.clean_actions([{"action": a, "value": v} for a, v in actions], CATALOG),
        **fields,
    )
    return routing.compile_rule(stored)


def context(**values) -> dict:
    base = {
        "subject": "Refund for order 42",
        "body": "Please send my refund",
        "channel": "email",
        "priority": "normal",
        "mailbox": "support",
        "tags": frozenset({"billing"}),
        "email_domain": "acme.com",
        "segment": frozenset({"value/vip", "vip", "rfm/champions", "champions"}),
        "business_hours": "inside",
        "customer.country": "DE",
        "customer.age": 34,
        "organisation.size": 250,
        "organisation.name": None,
        "custom.seats": "12",
    }
    return {**base, **values}


def fires(compiled: routing.CompiledRule, ctx: dict, event=CREATED) -> bool:
    firings, _ = routing.evaluate([compiled], ctx, event=event)
    return bool(firings)


@pytest.mark.parametrize(
    ("field", "operator", "value", "expected"),
    [
        ("subject", "equals", "refund for ORDER 42", True),
        ("subject", "equals", "Refund", False),
        ("subject", "not_equals", "Refund", True),
        ("subject", "not_equals", "refund for order 42", False),
        ("subject", "contains", "ORDER", True),
        ("subject", "contains", "invoice", False),
        ("subject", "not_contains", "invoice", True),
        ("subject", "not_contains", "refund", False),
        ("subject", "regex", r"order \d+$", True),
        ("subject", "regex", r"^order", False),
        ("subject", "in", "hello, Refund for order 42", True),
        ("subject", "not_in", "hello, bye", True),
        ("body", "contains", "refund", True),
        ("channel", "equals", "email", True),
        ("channel", "in", ["chat", "phone"], False),
        ("channel", "not_in", "chat, phone", True),
        ("priority", "not_equals", "urgent", True),
        ("mailbox", "equals", "sales", False),
        ("mailbox", "is_set", "yes", True),
        ("email_domain", "equals", "ACME.com", True),
        ("customer.country", "in", "DE, AT, CH", True),
        ("customer.age", "gt", "30", True),
        ("customer.age", "lt", "30", False),
        ("customer.age", "equals", "34", True),
        ("customer.age", "in", "18, 34", True),
        ("organisation.size", "gt", "1000", False),
        ("organisation.name", "is_set", "yes", False),
        ("organisation.name", "is_set", "no", True),
        ("organisation.name", "contains", "acme", False),
        ("organisation.name", "not_contains", "acme", True),
        ("custom.seats", "gt", "10", True),
        ("custom.seats", "equals", "12.0", True),
        ("custom.seats", "regex", "^1", True),
        ("custom.missing", "is_set", "true", False),
        ("custom.missing", "gt", "1", False),
        ("tags", "contains", "Billing", True),
        ("tags", "not_contains", "billing", False),
        ("tags", "in", "vip, billing", True),
        ("tags", "not_in", "vip, spam", True),
        ("tags", "is_set", "true", True),
        ("segment", "equals", "value/vip", True),
        ("segment", "equals", "vip", True),
        ("segment", "equals", "value/churning", False),
        ("segment", "not_equals", "value/vip", False),
        ("segment", "in", "value/churning, rfm/champions", True),
        ("segment", "not_in", "value/churning", True),
        ("segment", "is_set", "no", False),
        ("business_hours", "equals", "outside", False),
    ],
)
def test_each_operator_on_each_kind_of_field(field, operator, value, expected):
    compiled = rule(conditions=[(field, operator, value)])

    assert fires(compiled, context()) is expected


def test_match_all_needs_every_condition_and_any_needs_one():
    conditions = [("channel", "equals", "email"), ("priority", "equals", "urgent")]

    assert not fires(rule(conditions=conditions, match="all"), context())
    assert fires(rule(conditions=conditions, match="any"), context())


def test_a_rule_without_conditions_matches_every_ticket_on_creation():
    assert fires(rule(), context())


def test_actions_add_up_in_rule_order_and_a_later_rule_wins():
    rules = [
        rule(name="a", actions=[("assign_team", "billing"), ("add_tags", "refund, urgent")]),
        rule(name="b", actions=[("assign_team", "tier-2"), ("remove_tags", "billing")]),
        rule(name="c", actions=[("set_priority", "urgent"), ("assign_round_robin", "tier-2")]),
        rule(name="d", actions=[("assign_fewest_open", "billing")]),
    ]

    firings, plan = routing.evaluate(rules, context(), event=CREATED)

    assert [firing.rule.name for firing in firings] == ["a", "b", "c", "d"]
    assert plan.values == {
        "team": "tier-2",
        "tags": frozenset({"refund", "urgent"}),
        "priority": "urgent",
        "agent": (routing.FEWEST_OPEN, "billing"),
    }


def test_stop_processing_ends_the_evaluation():
    rules = [
        rule(name="first", actions=[("set_priority", "high"), ("stop_processing", None)]),
        rule(name="second", actions=[("set_priority", "low")]),
    ]

    firings, plan = routing.evaluate(rules, context(), event=CREATED)

    assert [firing.rule.name for firing in firings] == ["first"]
    assert plan.values["priority"] == "high"
    assert plan.stopped


def test_conditions_see_the_ticket_as_the_event_left_it_not_earlier_actions():
    rules = [
        rule(name="raise", actions=[("set_priority", "urgent")]),
        rule(name="on urgent", conditions=[("priority", "equals", "urgent")]),
    ]

    firings, _ = routing.evaluate(rules, context(), event=CREATED)

    assert [firing.rule.name for firing in firings] == ["raise"]


def test_selective_rules_fire_only_when_a_field_they_look_at_changed():
    on_segment = rule(conditions=[("segment", "equals", "vip")])
    on_body = rule(conditions=[("body", "contains", "refund")])
    on_subject = rule(conditions=[("subject", "contains", "refund")])

    assert fires(on_segment, context(), SEGMENT_CHANGED)
    assert not fires(on_segment, context(), REPLIED)
    assert fires(on_body, context(), REPLIED)
    assert not fires(on_body, context(), SEGMENT_CHANGED)
    assert not fires(on_subject, context(), REPLIED)
    assert all(fires(r, context(), CREATED) for r in (on_segment, on_body, on_subject))


def test_an_always_run_rule_fires_on_every_event_it_listens_to():
    always = rule(conditions=[("subject", "contains", "refund")], always_run=True)
    not_listening = rule(conditions=[("segment", "equals", "vip")], events=[CREATED])

    assert fires(always, context(), REPLIED)
    assert fires(always, context(), SEGMENT_CHANGED)
    assert not fires(not_listening, context(), SEGMENT_CHANGED)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"field": "colour", "operator": "equals", "value": "red"}, "unknown field 'colour'"),
        ({"field": "subject", "operator": "gt", "value": "1"}, "Subject cannot use 'gt'"),
        ({"field": "subject", "operator": "regex", "value": "(unclosed"}, "bad regular expr"),
        ({"field": "channel", "operator": "equals", "value": "fax"}, "'fax' is not one of"),
        ({"field": "priority", "operator": "in", "value": "high, extreme"}, "'extreme' is not"),
        ({"field": "mailbox", "operator": "equals", "value": "nope"}, "'nope' is not one of"),
        ({"field": "customer.age", "operator": "gt", "value": "old"}, "'old' is not a number"),
        ({"field": "segment", "operator": "equals", "value": "a/b/c"}, "is not a segment"),
        ({"field": "segment", "operator": "equals", "value": "VIP tier"}, "is not a segment"),
        ({"field": "subject", "operator": "contains", "value": "  "}, "a value is required"),
        ({"field": "subject", "operator": "in", "value": ""}, "at least one value"),
        ({"field": "tags", "operator": "is_set", "value": "maybe"}, "not yes or no"),
        ({"field": "custom.bad key!", "operator": "equals", "value": "x"}, "unknown field"),
        ("subject contains refund", "must be an object"),
    ],
)
def test_bad_conditions_are_refused_with_the_row_and_reason(row, message):
    with pytest.raises(routing.RuleError, match="Condition 1") as error:
        routing.clean_conditions([row], CATALOG)

    assert message in str(error.value)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([], "at least one action"),
        ([{"action": "delete_ticket", "value": ""}], "unknown action 'delete_ticket'"),
        ([{"action": "assign_team", "value": "tier-9"}], "'tier-9' is not one of"),
        ([{"action": "assign_round_robin", "value": ""}], "a value is required"),
        ([{"action": "set_priority", "value": "extreme"}], "'extreme' is not one of"),
        ([{"action": "add_tags", "value": " , "}], "one or more tags"),
        ([{"action": "add_tags", "value": "x" * 51}], "at most 50 characters"),
    ],
)
def test_bad_actions_are_refused_with_the_row_and_reason(rows, message):
    with pytest.raises(routing.RuleError, match=message):
        routing.clean_actions(rows, CATALOG)


def test_cleaning_normalises_values():
    conditions = routing.clean_conditions(
        [
            {"field": "customer.country", "operator": "in", "value": "DE, AT"},
            {"field": "customer.age", "operator": "gt", "value": "30"},
            {"field": "tags", "operator": "is_set", "value": "no"},
        ],
        CATALOG,
    )
    actions = routing.clean_actions(
        [{"action": "add_tags", "value": "VIP, refund, vip"}, {"action": "stop_processing"}],
        CATALOG,
    )

    assert [row["value"] for row in conditions] == [["DE", "AT"], 30.0, False]
    assert actions == [
        {"action": "add_tags", "value": ["refund", "vip"]},
        {"action": "stop_processing", "value": None},
    ]


def test_context_holds_every_field_a_condition_can_name():
    organisation = Organisation(name="Acme", industry="Retail", size=40)
    customer = Customer(
        email="Ann@Acme.COM",
        name="Ann",
        country="DE",
        plan="pro",
        language="de",
        age=41,
        organisation=organisation,
        custom_fields={"seats": 12},
    )
    ticket = Ticket(
        subject="Help",
        channel="chat",
        priority="high",
        customer=customer,
        mailbox=Mailbox(slug="support"),
    )
    ctx = routing.make_context(
        ticket=ticket,
        body="text",
        tags=["VIP"],
        segments=[("value", "Big")],
        at=datetime(2025, 6, 2, 7, 30, tzinfo=UTC),  # Monday 09:30 in Berlin
        hours=BERLIN_OFFICE,
    )

    assert ctx["email_domain"] == "acme.com"
    assert ctx["segment"] == frozenset({"value/big", "big"})
    assert ctx["tags"] == frozenset({"vip"})
    assert ctx["business_hours"] == "inside"
    assert (ctx["customer.plan"], ctx["customer.age"], ctx["custom.seats"]) == ("pro", 41, 12)
    assert (ctx["organisation.industry"], ctx["mailbox"], ctx["channel"]) == (
        "Retail",
        "support",
        "chat",
    )
    named = {name for name in routing.FIELDS}
    assert named <= set(ctx)


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (datetime(2025, 6, 2, 6, 59, tzinfo=UTC), False),  # Monday 08:59 Berlin
        (datetime(2025, 6, 2, 7, 0, tzinfo=UTC), True),  # Monday 09:00
        (datetime(2025, 6, 2, 14, 59, tzinfo=UTC), True),  # Monday 16:59
        (datetime(2025, 6, 2, 15, 0, tzinfo=UTC), False),  # Monday 17:00
        (datetime(2025, 6, 7, 10, 0, tzinfo=UTC), False),  # Saturday
        (datetime(2025, 1, 6, 8, 30, tzinfo=UTC), True),  # Monday 09:30 in winter time
        (datetime(2025, 12, 25, 10, 0, tzinfo=UTC), False),  # a holiday (Thursday)
    ],
)
def test_business_hours_in_the_calendars_time_zone(moment, inside):
    assert routing.is_open(BERLIN_OFFICE, moment) is inside


def test_an_action_added_to_the_table_is_validated_and_planned():
    def plan(draft, value):
        draft.values["sla_policy"] = value

    spec = routing.ActionSpec("Set SLA policy", "sla_policies", plan)
    catalog = routing.Catalog(extra={"sla_policies": frozenset({"gold"})})
    routing.register_action("test_set_sla", spec)
    try:
        with pytest.raises(routing.RuleError, match="'silver' is not one of: gold"):
            routing.clean_actions([{"action": "test_set_sla", "value": "silver"}], catalog)
        cleaned = routing.clean_actions([{"action": "test_set_sla", "value": "gold"}], catalog)
        compiled = routing.compile_rule(RoutingRule(name="sla", events=[CREATED], actions=cleaned))
        _, planned = routing.evaluate([compiled], context(), event=CREATED)
    finally:
        del routing.ACTIONS["test_set_sla"]

    assert planned.values == {"sla_policy": "gold"}
