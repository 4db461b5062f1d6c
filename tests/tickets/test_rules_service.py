"""Routing rules through the services: editing (validated, audited), applying on each event,
every action against the database, loops, the dry run and constant query counts."""

from datetime import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from helpdesk.models import AuditLog
from tests.factories import (
    AgentFactory,
    CustomerFactory,
    MailboxFactory,
    TagFactory,
    TeamFactory,
    TicketFactory,
)
from tickets import extensions
from tickets.extensions import Badge
from tickets.models import (
    BusinessCalendar,
    CannedReply,
    Message,
    RoutingRule,
    RuleFiring,
    SLAPolicy,
    SLATarget,
    Ticket,
)
from tickets.services import (
    apply_sla_policy,
    create_ticket,
    record_inbound_message,
    reroute_open_tickets,
    route_ticket,
    update_ticket,
)
from tickets.services import rules as rule_services
from tickets.services import tickets as ticket_services

CREATED = RoutingRule.Event.TICKET_CREATED
REPLIED = RoutingRule.Event.CUSTOMER_REPLIED
SEGMENT_CHANGED = RoutingRule.Event.SEGMENT_CHANGED


@pytest.fixture
def segments(db, monkeypatch):
    """Customer id -> badges, served through the badge extension point like segments does."""
    by_customer: dict[int, list[Badge]] = {}

    def provider(ids):
        return {pk: by_customer[pk] for pk in ids if pk in by_customer}

    monkeypatch.setattr(extensions, "_badge_providers", [provider])
    return by_customer


def vip_badge(team_id=None) -> Badge:
    return Badge(group="Value", group_slug="value", label="VIP", slug="vip", team_id=team_id)


def make_rule(actor=None, **fields) -> RoutingRule:
    defaults = {
        "name": "rule",
        "match": "all",
        "events": [CREATED],
        "always_run": False,
        "conditions": [],
        "actions": [{"action": "set_priority", "value": "high"}],
    }
    return rule_services.create_rule(actor=actor, **{**defaults, **fields})


def condition(field, operator, value):
    return {"field": field, "operator": operator, "value": value}


def action(name, value=None):
    return {"action": name, "value": value}


def route_new(ticket: Ticket) -> Ticket:
    ticket.routed_at = None
    ticket.save(update_fields=["routed_at"])
    return route_ticket(ticket_id=ticket.pk)


# -- editing ----------------------------------------------------------------------------------


def test_creating_and_changing_a_rule_is_audited(lead):
    # given
    team = TeamFactory(slug="tier-2")

    # when
    rule = make_rule(
        actor=lead,
        name="VIP to Tier 2",
        conditions=[condition("segment", "equals", "value/vip")],
        actions=[action("assign_team", team.slug)],
    )
    rule_services.update_rule(
        rule=rule,
        actor=lead,
        name="VIP to Tier 2",
        match="any",
        events=[CREATED, SEGMENT_CHANGED],
        always_run=False,
        conditions=rule.conditions,
        actions=rule.actions,
    )
    rule_services.set_rule_active(rule=rule, active=False, actor=lead)

    # then
    log = list(AuditLog.objects.filter(target_type="routingrule", target_id=rule.pk))
    assert [(entry.action, entry.actor) for entry in log] == [
        ("rule_created", lead),
        ("rule_updated", lead),
        ("rule_updated", lead),
    ]
    assert log[0].changes["actions"] == [{"action": "assign_team", "value": "tier-2"}]
    assert log[1].changes == {
        "match": ["all", "any"],
        "events": [[CREATED], [CREATED, SEGMENT_CHANGED]],
    }
    assert log[2].changes == {"active": [True, False]}


def test_moving_a_rule_renumbers_the_order_and_is_audited(lead):
    first, _, third = (make_rule(name=name) for name in ("a", "b", "c"))

    rule_services.move_rule(rule=third, offset=-2, actor=lead)
    rule_services.move_rule(rule=first, offset=5, actor=lead)

    names = list(RoutingRule.objects.values_list("name", "order"))
    assert names == [("c", 1), ("b", 2), ("a", 3)]
    moves = AuditLog.objects.filter(target_type="routingrule", action="rule_updated")
    assert [entry.changes for entry in moves] == [{"order": [3, 1]}, {"order": [2, 3]}]


@pytest.mark.parametrize(
    ("fields", "key", "message"),
    [
        ({"name": " "}, "name", "needs a name"),
        ({"events": []}, "events", "Choose events"),
        ({"events": ["ticket_deleted"]}, "events", "Choose events"),
        ({"match": "most"}, "match", "Match must be one of"),
        ({"conditions": [condition("colour", "equals", "x")]}, "conditions", "unknown field"),
        ({"conditions": [condition("body", "regex", "a(")]}, "conditions", "bad regular"),
        ({"conditions": [condition("priority", "equals", "hot")]}, "conditions", "'hot' is not"),
        ({"conditions": [condition("segment", "equals", "x/y/z")]}, "conditions", "segment"),
        ({"actions": [action("assign_team", "nowhere")]}, "actions", "'nowhere' is not one of"),
        ({"actions": [action("set_sla_policy", "999")]}, "actions", "'999' is not one of"),
        ({"actions": []}, "actions", "at least one action"),
    ],
)
def test_invalid_rules_are_refused_with_a_message_on_the_field(db, fields, key, message):
    with pytest.raises(ValidationError) as error:
        make_rule(**fields)

    assert message in " ".join(error.value.message_dict[key])
    assert not RoutingRule.objects.exists()


def test_rule_names_are_unique_ignoring_case(db):
    make_rule(name="VIP")

    with pytest.raises(ValidationError, match="already exists"):
        make_rule(name="vip")


# -- events -----------------------------------------------------------------------------------


def test_new_ticket_is_routed_by_rules_and_the_firing_is_recorded(
    segments, django_capture_on_commit_callbacks
):
    # given a rule "segment is vip -> team Tier 2, priority high"
    tier2 = TeamFactory(name="Tier 2", slug="tier-2")
    rule = make_rule(
        name="VIP to Tier 2",
        conditions=[condition("segment", "equals", "vip")],
        actions=[action("assign_team", "tier-2"), action("set_priority", "high")],
    )
    customer = CustomerFactory()
    segments[customer.pk] = [vip_badge()]

    # when a ticket arrives
    with django_capture_on_commit_callbacks(execute=True):
        ticket = create_ticket(customer=customer, subject="Help", body_text="Where is it?")

    # then
    ticket.refresh_from_db()
    assert (ticket.team, ticket.priority, ticket.routed_at is not None) == (tier2, "high", True)
    firing = RuleFiring.objects.get()
    assert (firing.rule, firing.rule_name, firing.event, firing.cause) == (
        rule,
        "VIP to Tier 2",
        CREATED,
        "ticket created",
    )
    assert firing.actions == [
        {"action": "assign_team", "value": "tier-2"},
        {"action": "set_priority", "value": "high"},
    ]
    assert firing.changes == {"team": [None, "Tier 2"], "priority": ["normal", "high"]}
    log = AuditLog.objects.filter(target_type="ticket", target_id=ticket.pk)
    fired = log.get(action="rule_fired")
    assert (fired.changes["rule"], fired.cause) == ("VIP to Tier 2", "ticket created")
    updated = log.get(action="ticket_updated")
    assert updated.cause == "rule: VIP to Tier 2"
    assert updated.changes["team"] == [None, "Tier 2"]


def test_routing_a_ticket_twice_changes_nothing_the_second_time(db):
    make_rule(actions=[action("add_tags", "seen")])
    ticket = TicketFactory(routed_at=None)

    route_ticket(ticket_id=ticket.pk)
    route_ticket(ticket_id=ticket.pk)

    assert RuleFiring.objects.count() == 1


def test_without_a_rule_team_the_segment_team_wins_over_the_mailbox_team(segments):
    mailbox_team, segment_team = TeamFactory(), TeamFactory()
    mailbox = MailboxFactory(team=mailbox_team)
    plain, vip = CustomerFactory(), CustomerFactory()
    segments[vip.pk] = [vip_badge(team_id=segment_team.pk)]
    tickets = [TicketFactory(customer=c, mailbox=mailbox, team=mailbox_team) for c in (plain, vip)]

    routed = [route_new(ticket) for ticket in tickets]

    assert [ticket.team for ticket in routed] == [mailbox_team, segment_team]
    assert not RuleFiring.objects.exists()


def test_customer_reply_fires_rules_that_look_at_the_body_once_per_message(
    db, django_capture_on_commit_callbacks
):
    # given
    make_rule(
        name="refund words",
        events=[REPLIED],
        conditions=[condition("body", "contains", "refund")],
        actions=[action("add_tags", "refund")],
    )
    make_rule(
        name="subject only",
        events=[REPLIED],
        conditions=[condition("subject", "contains", "order")],
        actions=[action("set_priority", "urgent")],
    )
    ticket = TicketFactory(subject="My order")

    # when
    with django_capture_on_commit_callbacks(execute=True):
        message = record_inbound_message(ticket=ticket, body_text="I want a refund now")
    rule_services.route_reply(message_id=message.pk)  # a second delivery of the task

    # then
    ticket.refresh_from_db()
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["refund"]
    assert ticket.priority == "normal"
    assert list(RuleFiring.objects.values_list("rule_name", "event")) == [("refund words", REPLIED)]


def test_segment_change_reroutes_open_tickets_by_rules(segments):
    # given an open and a closed ticket of a customer who just became vip
    tier2 = TeamFactory(slug="tier-2")
    make_rule(
        name="VIP to Tier 2",
        events=[CREATED, SEGMENT_CHANGED],
        conditions=[condition("segment", "equals", "value/vip")],
        actions=[action("assign_team", "tier-2")],
    )
    customer = CustomerFactory()
    open_ticket = TicketFactory(customer=customer, status=Ticket.Status.OPEN)
    closed = TicketFactory(customer=customer, status=Ticket.Status.CLOSED)
    segments[customer.pk] = [vip_badge()]

    # when
    count = reroute_open_tickets(customer_ids=[customer.pk], cause="segment changed")

    # then
    open_ticket.refresh_from_db()
    closed.refresh_from_db()
    assert count == 1
    assert (open_ticket.team, closed.team) == (tier2, None)
    firing = RuleFiring.objects.get()
    assert (firing.ticket, firing.event, firing.cause) == (
        open_ticket,
        SEGMENT_CHANGED,
        "segment changed",
    )


def test_segment_change_keeps_a_team_a_person_chose(segments, agent):
    segment_team, chosen = TeamFactory(), TeamFactory()
    customer = CustomerFactory()
    ticket = TicketFactory(customer=customer, status=Ticket.Status.OPEN)
    update_ticket(ticket=ticket, actor=agent, team=chosen)
    segments[customer.pk] = [vip_badge(team_id=segment_team.pk)]

    reroute_open_tickets(customer_ids=[customer.pk], cause="segment changed")

    ticket.refresh_from_db()
    assert ticket.team == chosen


# -- actions ----------------------------------------------------------------------------------


def test_tags_are_added_and_removed(db):
    make_rule(name="a", actions=[action("add_tags", "vip, refund")])
    make_rule(name="b", actions=[action("remove_tags", "spam")])
    ticket = TicketFactory()
    ticket.tags.set([TagFactory(name="spam"), TagFactory(name="keep")])

    routed = route_new(ticket)

    assert sorted(routed.tags.values_list("name", flat=True)) == ["keep", "refund", "vip"]


def _team_with_agents(*, away: set[int] = frozenset(), count: int = 3):
    team = TeamFactory(slug="tier-2")
    agents = [AgentFactory(away=n in away) for n in range(count)]
    team.members.set(agents)
    return team, agents


def test_round_robin_takes_turns_and_skips_away_agents(db):
    team, agents = _team_with_agents(away={1})
    make_rule(actions=[action("assign_round_robin", "tier-2")])

    assigned = [route_new(TicketFactory()).assignee for _ in range(4)]

    assert assigned == [agents[0], agents[2], agents[0], agents[2]]
    assert all(ticket.team == team for ticket in Ticket.objects.all())


def test_fewest_open_picks_the_least_busy_agent_who_is_not_away(db):
    _, agents = _team_with_agents(away={0})  # agents[0] has no tickets but is away
    TicketFactory.create_batch(2, assignee=agents[1])
    TicketFactory(assignee=agents[2])
    TicketFactory.create_batch(5, assignee=agents[2], status=Ticket.Status.CLOSED)
    make_rule(actions=[action("assign_fewest_open", "tier-2")])

    first = route_new(TicketFactory())
    second = route_new(TicketFactory())

    assert (first.assignee, second.assignee) == (agents[2], agents[1])


def test_nobody_available_leaves_the_ticket_unassigned_in_the_team(db):
    team, _ = _team_with_agents(away={0, 1})
    make_rule(actions=[action("assign_round_robin", "tier-2")])
    team.members.remove(*team.members.filter(away=False))

    routed = route_new(TicketFactory())

    assert (routed.team, routed.assignee) == (team, None)


def test_set_sla_policy_gives_the_ticket_the_policys_due_times(db):
    SLAPolicy.objects.create(name="Default", is_default=True)
    policy = SLAPolicy.objects.create(name="Gold")
    SLATarget.objects.create(
        policy=policy, priority="urgent", first_response_minutes=30, resolution_minutes=240
    )
    make_rule(actions=[action("set_priority", "urgent"), action("set_sla_policy", policy.pk)])
    ticket = TicketFactory()

    routed = route_new(ticket)

    assert routed.sla_policy == policy
    assert (routed.first_response_due_at - routed.created_at).total_seconds() == 30 * 60


def test_a_rule_changing_the_priority_recomputes_the_sla_due_times(db):
    policy = SLAPolicy.objects.create(name="Gold")
    for priority, minutes in (("normal", 240), ("urgent", 30)):
        SLATarget.objects.create(policy=policy, priority=priority, first_response_minutes=minutes)
    ticket = TicketFactory(priority="normal")
    apply_sla_policy(ticket=ticket, policy=policy, cause="test")
    make_rule(name="urgent", actions=[action("set_priority", "urgent")])

    routed = route_new(ticket)

    assert (routed.first_response_due_at - routed.created_at).total_seconds() == 30 * 60
    applied = AuditLog.objects.filter(target_id=ticket.pk, action="sla_policy_applied")
    assert applied.latest("id").cause == "priority changed"


def test_send_canned_reply_queues_an_automatic_reply(db, django_capture_on_commit_callbacks):
    reply = CannedReply.objects.create(title="Welcome back", body="Hi {{ customer.first_name }}!")
    make_rule(actions=[action("send_canned_reply", reply.pk)])
    ticket = TicketFactory(customer=CustomerFactory(name="Ann Lee"))

    route_new(ticket)

    sent = Message.objects.get(ticket=ticket, kind=Message.Kind.OUTBOUND)
    assert sent.body_text == "Hi Ann!"
    assert sent.headers["Auto-Submitted"] == "auto-replied"


def test_a_personal_canned_reply_cannot_be_sent_by_a_rule(agent):
    personal = CannedReply.objects.create(title="Mine", body="Hi", owner=agent)

    with pytest.raises(ValidationError, match="is not one of"):
        make_rule(actions=[action("send_canned_reply", personal.pk)])


def test_stop_processing_keeps_later_rules_from_firing(db):
    make_rule(name="first", actions=[action("add_tags", "a"), action("stop_processing")])
    make_rule(name="second", actions=[action("add_tags", "b")])

    routed = route_new(TicketFactory())

    assert list(routed.tags.values_list("name", flat=True)) == ["a"]
    assert list(RuleFiring.objects.values_list("rule_name", flat=True)) == ["first"]


def test_an_inactive_rule_does_not_fire(db):
    rule = make_rule(actions=[action("add_tags", "a")])
    rule_services.set_rule_active(rule=rule, active=False, actor=None)

    route_new(TicketFactory())

    assert not RuleFiring.objects.exists()


def test_business_hours_come_from_the_default_sla_calendar(db, settings):
    # given a calendar open only on Sundays and a ticket created on a Sunday noon
    calendar = BusinessCalendar.objects.create(
        name="Sundays", timezone="UTC", weekdays=[7], opens_at=time(8), closes_at=time(18)
    )
    SLAPolicy.objects.create(name="Weekend", calendar=calendar, is_default=True)
    make_rule(
        conditions=[condition("business_hours", "equals", "inside")],
        actions=[action("add_tags", "open")],
    )
    ticket = TicketFactory(created_at="2025-06-01T12:00:00Z")

    routed = route_new(ticket)

    assert list(routed.tags.values_list("name", flat=True)) == ["open"]


# -- loops ------------------------------------------------------------------------------------


def test_changes_made_by_a_rule_never_fire_rules_again(db, django_capture_on_commit_callbacks):
    # given a rule that reacts to what another rule does, on every event
    make_rule(
        name="tagger",
        events=list(RoutingRule.Event.values),
        always_run=True,
        actions=[action("add_tags", "vip")],
    )
    make_rule(
        name="reacts to vip",
        events=list(RoutingRule.Event.values),
        always_run=True,
        conditions=[condition("tags", "contains", "vip")],
        actions=[action("set_priority", "urgent")],
    )
    ticket = TicketFactory(routed_at=None)

    # when routing runs, and something asks to route again with the rule as the cause
    with django_capture_on_commit_callbacks(execute=True):
        route_ticket(ticket_id=ticket.pk)
    again = rule_services.apply_routing(ticket=ticket, event=CREATED, cause="rule: tagger")

    # then the tagger fired once and its change did not trigger the second rule
    ticket.refresh_from_db()
    assert again == []
    assert list(RuleFiring.objects.values_list("rule_name", flat=True)) == ["tagger"]
    assert ticket.priority == "normal"


# -- dry run ----------------------------------------------------------------------------------


def _varied_tickets(segments) -> list[Ticket]:
    TeamFactory(name="Tier 2", slug="tier-2")
    TeamFactory(name="Billing", slug="billing")
    tickets = []
    for n in range(30):
        customer = CustomerFactory(country=["DE", "FR", "US"][n % 3])
        if n % 4 == 0:
            segments[customer.pk] = [vip_badge()]
        ticket = TicketFactory(
            customer=customer,
            subject=["Refund please", "Login broken", "Invoice copy"][n % 5 % 3],
            priority=["low", "normal", "high"][n % 3],
            channel=["email", "chat"][n % 2],
        )
        tickets.append(ticket)
    return tickets


def _varied_rules() -> None:
    make_rule(
        name="vip",
        conditions=[condition("segment", "equals", "vip")],
        actions=[action("assign_team", "tier-2"), action("add_tags", "vip")],
    )
    make_rule(
        name="money",
        match="any",
        conditions=[
            condition("subject", "regex", "(?i)refund|invoice"),
            condition("tags", "is_set", True),
        ],
        actions=[action("assign_round_robin", "billing"), action("set_priority", "high")],
    )
    make_rule(
        name="chat from DE",
        conditions=[
            condition("channel", "equals", "chat"),
            condition("customer.country", "in", "DE"),
        ],
        actions=[action("set_priority", "urgent"), action("stop_processing")],
    )
    make_rule(
        name="low",
        conditions=[condition("priority", "equals", "low")],
        actions=[action("remove_tags", "vip")],
    )


def test_dry_run_and_real_routing_agree_on_the_same_tickets(segments):
    # given
    tickets = _varied_tickets(segments)
    _varied_rules()

    # when
    dry = {
        o.ticket.pk: ([f.rule.name for f in o.firings], o.shown_changes())
        for o in rule_services.dry_run()
    }
    rule_services.route_tickets(
        ticket_ids=[t.pk for t in tickets], event=CREATED, cause="ticket created"
    )

    # then every ticket was evaluated and the recorded firings are what the dry run showed
    real = {pk: ([], {}) for pk in dry}
    for firing in RuleFiring.objects.order_by("id"):
        names, _ = real[firing.ticket_id]
        real[firing.ticket_id] = ([*names, firing.rule_name], firing.changes)
    assert set(dry) == {t.pk for t in tickets}
    assert dry == real
    assert {len(names) for names, _ in dry.values()} >= {0, 1, 2}


def test_dry_run_of_an_unsaved_rule_writes_nothing(segments):
    _varied_tickets(segments)
    unsaved = RoutingRule(
        name="draft",
        events=[CREATED],
        conditions=[condition("subject", "contains", "refund")],
        actions=[action("set_priority", "urgent")],
    )

    outcomes = rule_services.dry_run(rules=[unsaved])

    matched = [o for o in outcomes if o.firings]
    assert len(outcomes) == 30
    assert matched and all("refund" in o.ticket.subject.lower() for o in matched)
    assert not RuleFiring.objects.exists()
    assert not Ticket.objects.filter(priority="urgent").exists()


# -- query counts -----------------------------------------------------------------------------


def _queries_to_route(ticket: Ticket) -> int:
    with CaptureQueriesContext(connection) as queries:
        rule_services.route_tickets(ticket_ids=[ticket.pk], event=CREATED, cause="test")
    return len(queries)


def _rules(count: int) -> None:
    RoutingRule.objects.all().delete()
    for n in range(count):
        make_rule(
            name=f"rule {n}",
            conditions=[
                condition("subject", "contains", "help"),
                condition("segment", "is_set", True),
            ],
            actions=[action("assign_team", "tier-2"), action("add_tags", f"t{n % 3}")],
        )


def test_query_count_of_one_evaluation_does_not_grow_with_the_rules(
    segments, django_assert_max_num_queries
):
    # given a ticket every rule matches
    TeamFactory(slug="tier-2")
    customer = CustomerFactory()
    segments[customer.pk] = [vip_badge()]
    tickets = [TicketFactory(customer=customer, subject="help me") for _ in range(2)]

    # when
    _rules(5)
    few = _queries_to_route(tickets[0])
    _rules(50)
    with django_assert_max_num_queries(few):
        rule_services.route_tickets(ticket_ids=[tickets[1].pk], event=CREATED, cause="test")

    # then
    assert RuleFiring.objects.filter(ticket=tickets[1]).count() == 50


# -- batches ----------------------------------------------------------------------------------


def _batch_rules() -> None:
    for slug in ("rr", "fewest"):
        TeamFactory(slug=slug).members.set([AgentFactory(away=n == 1) for n in range(3)])
    make_rule(
        name="round robin",
        conditions=[condition("subject", "contains", "printer")],
        actions=[action("assign_round_robin", "rr"), action("add_tags", "hardware")],
    )
    make_rule(
        name="fewest open",
        conditions=[condition("subject", "contains", "invoice")],
        actions=[action("assign_fewest_open", "fewest"), action("set_priority", "urgent")],
    )
    make_rule(name="no spam", actions=[action("remove_tags", "spam")])


def _routing_result(tickets: list[Ticket]) -> dict:
    ids = [ticket.pk for ticket in tickets]
    routed = Ticket.objects.filter(pk__in=ids).order_by("pk").prefetch_related("tags")
    audit = AuditLog.objects.filter(target_type="ticket", target_id__in=ids)
    return {
        "tickets": [
            (
                t.team_id,
                t.assignee_id,
                t.priority,
                sorted(tag.name for tag in t.tags.all()),
                t.first_response_due_at,
            )
            for t in routed
        ],
        "audit": list(
            audit.order_by("target_id", "id").values_list("target_id", "action", "changes", "cause")
        ),
        "firings": list(
            RuleFiring.objects.order_by("ticket_id", "id").values_list(
                "ticket_id", "rule_name", "changes"
            )
        ),
    }


def test_a_batch_is_routed_as_if_each_ticket_were_routed_in_turn(db):
    # given: tickets for both assignment strategies, some with a tag a rule removes
    _batch_rules()
    spam = TagFactory(name="spam")
    tickets = [
        TicketFactory(subject=f"{'printer' if n % 2 else 'invoice'} problem {n}") for n in range(7)
    ]
    for ticket in tickets[::3]:
        ticket.tags.set([spam])
    policy = SLAPolicy.objects.create(name="Gold")
    for priority, minutes in (("normal", 240), ("urgent", 30)):
        SLATarget.objects.create(policy=policy, priority=priority, first_response_minutes=minutes)
    Ticket.objects.filter(pk__in=[t.pk for t in tickets[:4]]).update(sla_policy=policy)
    ids = [ticket.pk for ticket in tickets]

    # when: routed one at a time (then undone), and in one batch
    with transaction.atomic():
        for pk in ids:
            rule_services.route_tickets(ticket_ids=[pk], event=CREATED, cause="test")
        one_at_a_time = _routing_result(tickets)
        transaction.set_rollback(True)
    rule_services.route_tickets(ticket_ids=ids, event=CREATED, cause="test")

    # then: the same assignments, fields, tags, audit entries and firings
    assert _routing_result(tickets) == one_at_a_time
    assert {assignee for _, assignee, *_ in one_at_a_time["tickets"]} == {
        agent.pk for agent in AgentFactory._meta.model.objects.filter(away=False)
    }


def test_queries_to_route_a_batch_do_not_grow_with_the_tickets(db, django_assert_max_num_queries):
    _batch_rules()
    few = [TicketFactory(subject=f"printer {n}") for n in range(2)]
    many = [TicketFactory(subject=f"invoice {n}") for n in range(2)]
    many += [TicketFactory(subject=f"printer {n}") for n in range(20)]
    with CaptureQueriesContext(connection) as routed_few:
        rule_services.route_tickets(
            ticket_ids=[t.pk for t in few] + [many[0].pk], event=CREATED, cause="test"
        )

    with django_assert_max_num_queries(len(routed_few)):
        rule_services.route_tickets(ticket_ids=[t.pk for t in many[1:]], event=CREATED, cause="t")

    assert Ticket.objects.filter(assignee__isnull=False).count() == len(few) + len(many)


def test_routing_a_new_ticket_takes_the_other_waiting_tickets_with_it(db):
    # given: a rule, a routed ticket, and new tickets whose routing jobs have not run yet
    make_rule(actions=[action("set_priority", "high")])
    routed = TicketFactory()
    waiting = [TicketFactory(routed_at=None) for _ in range(3)]

    # when: the job of one of them runs
    route_ticket(ticket_id=waiting[1].pk)

    # then: every waiting ticket was routed once, the routed one was left alone
    assert set(Ticket.objects.filter(priority="high").values_list("pk", flat=True)) == {
        ticket.pk for ticket in waiting
    }
    assert not Ticket.objects.filter(routed_at__isnull=True).exists()
    assert RuleFiring.objects.filter(ticket=routed).count() == 0
    assert RuleFiring.objects.count() == len(waiting)


def test_a_routing_batch_costs_the_same_queries_for_one_or_many_waiting_tickets(
    db, django_assert_max_num_queries
):
    _batch_rules()
    alone = TicketFactory(subject="printer 0", routed_at=None)
    with CaptureQueriesContext(connection) as routed_alone:
        route_ticket(ticket_id=alone.pk)
    many = [TicketFactory(subject=f"printer {n}", routed_at=None) for n in range(20)]

    with django_assert_max_num_queries(len(routed_alone)):
        route_ticket(ticket_id=many[-1].pk)

    assert not Ticket.objects.filter(routed_at__isnull=True).exists()


def test_a_routing_batch_stops_at_its_size(db, monkeypatch):
    monkeypatch.setattr(ticket_services, "ROUTE_BATCH", 3)
    waiting = [TicketFactory(routed_at=None) for _ in range(5)]

    route_ticket(ticket_id=waiting[-1].pk)

    # the job's own ticket and the two oldest others
    unrouted = Ticket.objects.filter(routed_at__isnull=True).values_list("pk", flat=True)
    assert sorted(unrouted) == [waiting[2].pk, waiting[3].pk]


def test_a_batch_that_fails_still_routes_the_jobs_own_ticket(db, monkeypatch):
    # given: waiting tickets, and rules that fail on any batch of more than one ticket
    route_batch = rule_services.route_tickets

    def fail_on_batches(*, ticket_ids, **kwargs):
        if len(ticket_ids) > 1:
            raise RuntimeError("a rule broke on one of them")
        return route_batch(ticket_ids=ticket_ids, **kwargs)

    monkeypatch.setattr(rule_services, "route_tickets", fail_on_batches)
    waiting = [TicketFactory(routed_at=None) for _ in range(3)]

    # when
    route_ticket(ticket_id=waiting[1].pk)

    # then: the job's own ticket is routed; the others wait for their own jobs
    unrouted = Ticket.objects.filter(routed_at__isnull=True).values_list("pk", flat=True)
    assert sorted(unrouted) == [waiting[0].pk, waiting[2].pk]
