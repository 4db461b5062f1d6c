"""Routing rules: editing them (validated, audited) and applying them to tickets.

The real evaluation and the dry run share one path (``_plan_batch``): load the tickets and build
each context once, evaluate the compiled rules, and work out the changes. ``apply_routing`` then
writes those changes; the dry run only shows them.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from helpdesk.audit import record_change
from helpdesk.models import AuditLog, User
from tickets import routing
from tickets.extensions import badges_for_customers, customer_filters
from tickets.models import (
    BusinessCalendar,
    CannedReply,
    Mailbox,
    Message,
    RoundRobinCursor,
    RoutingRule,
    RuleFiring,
    SLAPolicy,
    Team,
    Ticket,
)
from tickets.services.canned import send_canned_reply
from tickets.services.channels import channel_team_ids
from tickets.services.customers import tags_named
from tickets.services.sla import apply_sla_policy, opening_hours
from tickets.services.tickets import _label
from tickets.sla import OpeningHours

Event = RoutingRule.Event
RULE_CAUSE_PREFIX = "rule: "
DRY_RUN_TICKETS = 200
SEGMENT_FILTER_PARAM = "segment"
RULE_FIELDS = ("name", "match", "events", "always_run", "conditions", "actions", "active")


# -- editing rules ----------------------------------------------------------------------------


def rule_catalog() -> routing.Catalog:
    segment_filters = [f for f in customer_filters() if f.param == SEGMENT_FILTER_PARAM]
    return routing.Catalog(
        teams=frozenset(Team.objects.values_list("slug", flat=True)),
        mailboxes=frozenset(Mailbox.objects.values_list("slug", flat=True)),
        segments=frozenset(value for f in segment_filters for value, _ in f.choices()),
        extra={
            "sla_policies": _ids(SLAPolicy.objects.all()),
            # A rule sends only shared replies: a personal one belongs to its owner.
            "canned_replies": _ids(CannedReply.objects.filter(owner__isnull=True)),
        },
    )


def _ids(queryset: QuerySet) -> frozenset[str]:
    return frozenset(str(pk) for pk in queryset.values_list("pk", flat=True))


def clean_rule(
    *,
    name: str,
    match: str,
    events: Sequence[str],
    always_run: bool,
    conditions: Sequence[dict],
    actions: Sequence[dict],
    active: bool = True,
    catalog: routing.Catalog | None = None,
) -> dict:
    """The rule's fields normalised; ValidationError keyed by field names what is wrong."""
    catalog = catalog or rule_catalog()
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "A rule needs a name."
    elif len(name) > 100:
        errors["name"] = "A rule name is at most 100 characters."
    if match not in RoutingRule.Match.values:
        errors["match"] = f"Match must be one of: {', '.join(RoutingRule.Match.values)}."
    unknown = [event for event in events if event not in Event.values]
    if not events or unknown:
        errors["events"] = f"Choose events among: {', '.join(Event.values)}."
    cleaned = {}
    for key, clean, rows in (
        ("conditions", routing.clean_conditions, conditions),
        ("actions", routing.clean_actions, actions),
    ):
        try:
            cleaned[key] = clean(rows, catalog)
        except routing.RuleError as error:
            errors[key] = str(error)
    if errors:
        raise ValidationError(errors)
    return {
        "name": name,
        "match": match,
        "events": sorted(set(events), key=Event.values.index),
        "always_run": bool(always_run),
        "active": bool(active),
        **cleaned,
    }


@transaction.atomic
def create_rule(*, actor: User | None, **fields) -> RoutingRule:
    data = clean_rule(**fields)
    _refuse_duplicate_name(data["name"])
    last = RoutingRule.objects.order_by("-order").values_list("order", flat=True).first()
    rule = RoutingRule.objects.create(order=(last or 0) + 1, **data)
    record_change(target=rule, action="rule_created", actor=actor, changes=_audited(data))
    return rule


@transaction.atomic
def update_rule(*, rule: RoutingRule, actor: User | None, **fields) -> RoutingRule:
    data = clean_rule(**fields)
    _refuse_duplicate_name(data["name"], exclude=rule.pk)
    changes = {
        key: [getattr(rule, key), value]
        for key, value in data.items()
        if getattr(rule, key) != value
    }
    if changes:
        for key, (_, value) in changes.items():
            setattr(rule, key, value)
        rule.save(update_fields=[*changes, "updated_at"])
        record_change(target=rule, action="rule_updated", actor=actor, changes=changes)
    return rule


@transaction.atomic
def set_rule_active(*, rule: RoutingRule, active: bool, actor: User | None) -> RoutingRule:
    if rule.active != active:
        record_change(
            target=rule,
            action="rule_updated",
            actor=actor,
            changes={"active": [rule.active, active]},
        )
        rule.active = active
        rule.save(update_fields=["active", "updated_at"])
    return rule


@transaction.atomic
def move_rule(*, rule: RoutingRule, offset: int, actor: User | None) -> RoutingRule:
    """Move the rule ``offset`` places (negative: earlier) and number every rule 1..n."""
    rules = list(RoutingRule.objects.select_for_update().order_by("order", "id"))
    index = next(i for i, other in enumerate(rules) if other.pk == rule.pk)
    target = max(0, min(len(rules) - 1, index + offset))
    if target == index:
        return rule
    moved = rules.pop(index)
    rules.insert(target, moved)
    for number, other in enumerate(rules, 1):
        other.order = number
    RoutingRule.objects.bulk_update(rules, ["order"])
    record_change(
        target=moved, action="rule_updated", actor=actor, changes={"order": [index + 1, target + 1]}
    )
    return moved


@transaction.atomic
def delete_rule(*, rule: RoutingRule, actor: User | None) -> None:
    record_change(target=rule, action="rule_deleted", actor=actor, changes=_audited(rule.__dict__))
    rule.delete()


def _refuse_duplicate_name(name: str, exclude: int | None = None) -> None:
    if RoutingRule.objects.filter(name__iexact=name).exclude(pk=exclude).exists():
        raise ValidationError({"name": f"A rule named '{name}' already exists."})


def _audited(data: dict) -> dict:
    return {key: data[key] for key in RULE_FIELDS if key in data}


# -- evaluating -------------------------------------------------------------------------------


def business_hours() -> OpeningHours:
    """The default SLA policy's calendar, else Monday to Friday 09:00-17:00 in the site's
    time zone."""
    policy = SLAPolicy.objects.filter(is_default=True, calendar__isnull=False)
    calendar = policy.values_list("calendar", flat=True).first()
    hours = opening_hours(BusinessCalendar.objects.get(pk=calendar)) if calendar else None
    return hours or OpeningHours(
        timezone=ZoneInfo(settings.TIME_ZONE),
        weekdays=frozenset(range(1, 6)),
        opens_at=time(9),
        closes_at=time(17),
    )


def compiled_rules(rules: Iterable[RoutingRule] | None = None) -> list[routing.CompiledRule]:
    """The given rules, or every active rule in order, compiled once (one query)."""
    if rules is None:
        rules = RoutingRule.objects.filter(active=True).order_by("order", "id")
    return [routing.compile_rule(rule) for rule in rules]


@dataclass
class RoutingOutcome:
    """One ticket's evaluation: the firings and the changes they (and the defaults) make."""

    ticket: Ticket
    firings: list[routing.Firing]
    changes: dict  # field -> new value (Team, priority, tag list, (strategy, Team))

    def shown_changes(self) -> dict:
        """The changes as the dry run and the firing record show them: field -> [old, new]."""
        return {key: _shown(self.ticket, key, value) for key, value in self.changes.items()}


def _shown(ticket: Ticket, key: str, value) -> list:
    if key == "canned_replies":
        return [None, [reply.title for reply in value]]
    if key == "agent":
        strategy, team = value
        how = "round-robin" if strategy == routing.ROUND_ROBIN else "fewest open tickets"
        return [str(ticket.assignee) if ticket.assignee_id else None, f"{how} in {team.name}"]
    if key == "tags":
        return [sorted(tag.name for tag in ticket.tags.all()), value]
    old = getattr(ticket, key)
    return [str(old) if old is not None else None, str(value)]


def _tickets(ids: Sequence[int] | QuerySet, *, lock: bool) -> list[Ticket]:
    inbound = Message.objects.filter(ticket=OuterRef("pk"), kind=Message.Kind.INBOUND).order_by(
        "-created_at", "-id"
    )
    tickets = (
        Ticket.objects.filter(pk__in=ids)
        .select_related("customer__organisation", "mailbox", "team", "assignee", "sla_policy")
        .prefetch_related("tags")
        .defer("search_document")
        .annotate(
            last_inbound_text=Subquery(inbound.values("body_text")[:1]),
            last_inbound_at=Subquery(inbound.values("created_at")[:1]),
        )
        .order_by("pk")
    )
    if lock:
        # of=("self",): PostgreSQL cannot lock the nullable side of the outer joins.
        tickets = tickets.select_for_update(of=("self",))
    return list(tickets)


def _plan_batch(
    tickets: list[Ticket], rules: list[routing.CompiledRule], *, event: str
) -> list[RoutingOutcome]:
    badges = badges_for_customers([ticket.customer_id for ticket in tickets])
    hours = business_hours()
    now = timezone.now()
    chosen_by_person = _teams_chosen_by_people(tickets)
    channel_teams = channel_team_ids()
    decided = []
    for ticket in tickets:
        context = routing.make_context(
            ticket=ticket,
            body=ticket.last_inbound_text or "",
            tags=[tag.name for tag in ticket.tags.all()],
            segments=[(b.group_slug, b.slug) for b in badges.get(ticket.customer_id, [])],
            at=_event_time(ticket, event, now),
            hours=hours,
        )
        firings, plan = routing.evaluate(rules, context, event=event)
        default_team = None
        if "team" not in plan.values and _team_is_default(ticket, event, chosen_by_person):
            segment_teams = [b.team_id for b in badges.get(ticket.customer_id, []) if b.team_id]
            default_team = segment_teams[0] if segment_teams else None
            default_team = default_team or (ticket.mailbox.team_id if ticket.mailbox else None)
            default_team = default_team or channel_teams.get(ticket.channel)
        decided.append((ticket, firings, plan, default_team))
    found = _objects_for(decided)
    return [
        RoutingOutcome(
            ticket=ticket,
            firings=firings,
            changes=_changes(ticket, plan, found.get(default_team), found),
        )
        for ticket, firings, plan, default_team in decided
    ]


def _event_time(ticket: Ticket, event: str, now: datetime) -> datetime:
    if event == Event.TICKET_CREATED:
        return ticket.created_at
    if event == Event.CUSTOMER_REPLIED:
        return ticket.last_inbound_at or now
    return now


def _teams_chosen_by_people(tickets: list[Ticket]) -> set[int]:
    changed = AuditLog.objects.filter(
        target_type=Ticket._meta.model_name,
        target_id__in=[ticket.pk for ticket in tickets],
        actor__isnull=False,
        changes__has_key="team",
    )
    return set(changed.values_list("target_id", flat=True))


def _team_is_default(ticket: Ticket, event: str, chosen_by_person: set[int]) -> bool:
    """Defaults (segment team, else mailbox team) never replace a team a person chose; on a
    segment change they also leave a ticket an agent already holds."""
    if ticket.pk in chosen_by_person:
        return False
    if event == Event.TICKET_CREATED:
        mailbox_team = ticket.mailbox.team_id if ticket.mailbox else None
        return ticket.team_id in (None, mailbox_team)
    return event == Event.SEGMENT_CHANGED and ticket.assignee_id is None


def _objects_for(decided: list) -> dict:
    """Every team, SLA policy and canned reply the plans name or default to: key -> object,
    in at most one query each. Teams are keyed by slug and by id."""
    plans = [plan.values for _, _, plan, _ in decided]
    slugs = {values["team"] for values in plans if "team" in values}
    slugs |= {values["agent"][1] for values in plans if "agent" in values}
    ids = {team_id for *_, team_id in decided if team_id}
    found: dict = {}
    if slugs or ids:
        teams = Team.objects.filter(Q(slug__in=slugs) | Q(pk__in=ids))
        found.update({key: team for team in teams for key in (team.slug, team.pk)})
    policies = {values["sla_policy"] for values in plans if "sla_policy" in values}
    if policies:
        found.update({("sla", str(p.pk)): p for p in SLAPolicy.objects.filter(pk__in=policies)})
    replies = {pk for values in plans for pk in values.get("canned_replies", ())}
    if replies:
        found.update({("reply", str(r.pk)): r for r in CannedReply.objects.filter(pk__in=replies)})
    return found


def _changes(ticket: Ticket, plan: routing.Plan, default_team: Team | None, found: dict) -> dict:
    changes = {}
    team = found.get(plan.values["team"]) if "team" in plan.values else default_team
    if team is not None and team.pk != ticket.team_id:
        changes["team"] = team
    if "agent" in plan.values:
        strategy, slug = plan.values["agent"]
        if slug in found:
            changes["agent"] = (strategy, found[slug])
    if plan.values.get("priority", ticket.priority) != ticket.priority:
        changes["priority"] = plan.values["priority"]
    if plan.tags != plan.current_tags:
        changes["tags"] = sorted(plan.tags)
    policy = found.get(("sla", plan.values.get("sla_policy")))
    if policy is not None and policy.pk != ticket.sla_policy_id:
        changes["sla_policy"] = policy
    replies = [found.get(("reply", pk)) for pk in plan.values.get("canned_replies", ())]
    if any(replies):
        changes["canned_replies"] = [reply for reply in replies if reply is not None]
    return changes


# -- applying ---------------------------------------------------------------------------------


def apply_routing(*, ticket: Ticket, event: str, cause: str) -> list[RuleFiring]:
    """Evaluate the active rules for ``event`` on the ticket and apply what fires.

    ``cause`` is what triggered the event (kept on each firing). A cause that is itself a rule
    is refused: a change made by a rule never fires rules again.
    """
    return route_tickets(ticket_ids=[ticket.pk], event=event, cause=cause)


@transaction.atomic
def route_tickets(*, ticket_ids: Sequence[int], event: str, cause: str) -> list[RuleFiring]:
    """``apply_routing`` for many tickets: one load of the rules and contexts, and set-based
    writes (a statement per kind of change, not per ticket)."""
    if cause.startswith(RULE_CAUSE_PREFIX):
        return []
    tickets = _tickets(ticket_ids, lock=True)
    outcomes = _plan_batch(tickets, compiled_rules(), event=event)
    firings = [
        RuleFiring(
            rule_id=firing.rule.id,
            rule_name=firing.rule.name,
            ticket=outcome.ticket,
            event=event,
            cause=cause,
            actions=[{"action": name, "value": value} for name, value in firing.actions],
            changes=shown,
        )
        for outcome in outcomes
        if outcome.firings
        for shown in [outcome.shown_changes()]
        for firing in outcome.firings
    ]
    RuleFiring.objects.bulk_create(firings)
    # Recorded before the changes so the timeline reads "routed by ..." and then what changed.
    AuditLog.objects.bulk_create(
        AuditLog(
            target_type=Ticket._meta.model_name,
            target_id=firing.ticket_id,
            action="rule_fired",
            changes={"rule": firing.rule_name, "event": event},
            cause=firing.cause,
        )
        for firing in firings
    )
    _write_ticket_changes(outcomes)
    _apply_sla_policies(outcomes, event=event)
    for outcome in outcomes:
        for reply in outcome.changes.get("canned_replies", ()):
            send_canned_reply(ticket=outcome.ticket, canned_reply=reply, cause=_cause(outcome))
    return firings


def _cause(outcome: RoutingOutcome) -> str:
    names = [firing.rule.name for firing in outcome.firings]
    return _rule_cause(names) if names else "default routing"


def _rule_cause(names: list[str]) -> str:
    """ "rule: A, B" cut to fit the audit log's cause column."""
    cause = f"{RULE_CAUSE_PREFIX}{', '.join(names)}"
    limit = AuditLog._meta.get_field("cause").max_length
    return cause if len(cause) <= limit else f"{cause[: limit - 1]}…"


def _write_ticket_changes(outcomes: list[RoutingOutcome]) -> None:
    """Priority, assignee, team and tags of every ticket, audited as ``update_ticket`` audits
    an edit, in a few set-based statements and one insert of the audit rows."""
    agents = _pick_agents(outcomes)
    tags = _TagWriter(outcomes)
    now = timezone.now()
    ids_by_change: dict[tuple[str, object], list[int]] = {}
    tickets_with_new_priority = []
    audits = []
    for outcome in outcomes:
        ticket = outcome.ticket
        changes = {}
        for name, value in _field_values(outcome, agents.get(ticket.pk)).items():
            old = getattr(ticket, name)
            if old != value:
                setattr(ticket, name, value)
                changes[name] = [_label(old), _label(value)]
                ids_by_change.setdefault((name, value), []).append(ticket.pk)
        if changes:
            ticket.updated_at = now
        if "priority" in changes and ticket.sla_policy_id:
            tickets_with_new_priority.append(ticket)
        changes.update(tags.change(outcome))
        if changes:
            audits.append(
                AuditLog(
                    target_type=Ticket._meta.model_name,
                    target_id=ticket.pk,
                    action="ticket_updated",
                    changes=changes,
                    cause=_cause(outcome),
                )
            )
    _update_fields(ids_by_change, updated_at=now)
    tags.write()
    for ticket in tickets_with_new_priority:
        # As update_ticket does: the policy's due times follow the priority.
        apply_sla_policy(ticket=ticket, policy=ticket.sla_policy, cause="priority changed")
    AuditLog.objects.bulk_create(audits)


def _update_fields(ids_by_change: dict[tuple[str, object], list[int]], *, updated_at) -> None:
    """One UPDATE per field and value (a bulk_update's CASE per row costs more here): the
    statements grow with the teams, agents and priorities named, not with the tickets."""
    for (name, value), ids in ids_by_change.items():
        Ticket.objects.filter(pk__in=ids).update(**{name: value})
    changed = {pk for ids in ids_by_change.values() for pk in ids}
    if changed:
        Ticket.objects.filter(pk__in=changed).update(updated_at=updated_at)


def _field_values(outcome: RoutingOutcome, agent: User | None) -> dict:
    """The ticket fields the outcome sets, in ``update_ticket``'s order."""
    changes = outcome.changes
    values = {}
    if "priority" in changes:
        values["priority"] = changes["priority"]
    if agent is not None:
        values["assignee"] = agent
    team = changes.get("team") or (changes["agent"][1] if "agent" in changes else None)
    if team is not None:
        values["team"] = team
    return values


class _TagWriter:
    """The outcomes' tag changes: the rows of the tag table created in one statement, the
    ticket-tag links deleted and inserted in one statement each."""

    def __init__(self, outcomes: list[RoutingOutcome]):
        wanted = {name for o in outcomes for name in o.changes.get("tags", ())}
        self.tags = {tag.name: tag for tag in tags_named(list(wanted))} if wanted else {}
        self.added: list = []
        self.removed: dict[int, list[int]] = {}

    def change(self, outcome: RoutingOutcome) -> dict:
        if "tags" not in outcome.changes:
            return {}
        ticket = outcome.ticket
        old = {tag.name: tag.pk for tag in ticket.tags.all()}
        new = {name: self.tags[name].pk for name in _tag_names(outcome.changes["tags"])}
        if sorted(old) == sorted(new):
            return {}
        link = Ticket.tags.through
        self.added += [
            link(ticket_id=ticket.pk, tag_id=pk) for name, pk in new.items() if name not in old
        ]
        gone = [pk for name, pk in old.items() if name not in new]
        if gone:
            self.removed[ticket.pk] = gone
        return {"tags": [sorted(old), sorted(new)]}

    def write(self) -> None:
        link = Ticket.tags.through
        if self.removed:
            pairs = Q()
            for ticket_id, tag_ids in self.removed.items():
                pairs |= Q(ticket_id=ticket_id, tag_id__in=tag_ids)
            link.objects.filter(pairs).delete()
        link.objects.bulk_create(self.added)


def _tag_names(names: Iterable[str]) -> list[str]:
    """The names as ``tags_named`` stores them."""
    return sorted({name.strip().lower() for name in names if name.strip()})


def _pick_agents(outcomes: list[RoutingOutcome]) -> dict[int, User]:
    """ticket id -> the agent its "assign agent" action picks, in ticket order, as if each
    ticket were assigned before the next is picked: one cursor lock per round-robin team and
    one count of open tickets per batch."""
    wanted = [(o.ticket, *o.changes["agent"]) for o in outcomes if "agent" in o.changes]
    if not wanted:
        return {}
    members = _available_members({team.pk for _, _, team in wanted})
    round_robin_teams = {team.pk: team for _, how, team in wanted if how == routing.ROUND_ROBIN}
    # Locked in team order, so concurrent batches cannot deadlock on each other's cursors.
    cursors = {pk: _locked_cursor(team) for pk, team in sorted(round_robin_teams.items())}
    open_counts = _open_ticket_counts(
        {
            agent.pk
            for _, strategy, team in wanted
            if strategy == routing.FEWEST_OPEN
            for agent in members.get(team.pk, ())
        }
    )
    picked = {}
    for ticket, strategy, team in wanted:
        available = members.get(team.pk, [])
        if not available:
            continue
        if strategy == routing.FEWEST_OPEN:
            agent = min(available, key=lambda a: (open_counts[a.pk], a.pk))
        else:
            cursor = cursors[team.pk]
            after = cursor.last_agent_id or 0
            agent = next((a for a in available if a.pk > after), available[0])
            cursor.last_agent = agent
        picked[ticket.pk] = agent
        if ticket.status in Ticket.ACTIVE_STATUSES and ticket.assignee_id != agent.pk:
            open_counts[agent.pk] = open_counts.get(agent.pk, 0) + 1
            if ticket.assignee_id in open_counts:
                open_counts[ticket.assignee_id] -= 1
    RoundRobinCursor.objects.bulk_update(list(cursors.values()), ["last_agent"])
    return picked


def _available_members(team_ids: set[int]) -> dict[int, list[User]]:
    """team id -> its agents who are not away, by id."""
    links = (
        Team.members.through.objects.filter(
            team_id__in=team_ids, user__is_active=True, user__away=False
        )
        .select_related("user")
        .order_by("user_id")
    )
    members: dict[int, list[User]] = {}
    for link in links:
        members.setdefault(link.team_id, []).append(link.user)
    return members


def _open_ticket_counts(agent_ids: set[int]) -> dict[int, int]:
    if not agent_ids:
        return {}
    counts = (
        Ticket.objects.filter(assignee_id__in=agent_ids, status__in=Ticket.ACTIVE_STATUSES)
        .values("assignee_id")
        .annotate(open_count=Count("pk"))
    )
    return {pk: 0 for pk in agent_ids} | {row["assignee_id"]: row["open_count"] for row in counts}


def _apply_sla_policies(outcomes: list[RoutingOutcome], *, event: str) -> None:
    """The policy a rule set, else on creation the default policy (looked up once)."""
    default = None
    if event == Event.TICKET_CREATED:
        default = SLAPolicy.objects.filter(is_default=True).first()
    for outcome in outcomes:
        policy = outcome.changes.get("sla_policy")
        ticket = outcome.ticket
        if policy is not None:
            apply_sla_policy(ticket=ticket, policy=policy, cause=_cause(outcome))
        elif default is not None and ticket.sla_policy_id is None:
            apply_sla_policy(ticket=ticket, policy=default, cause="default SLA policy")


def _locked_cursor(team: Team) -> RoundRobinCursor:
    """The team's cursor row, locked so concurrent assignments take turns."""
    try:
        with transaction.atomic():
            RoundRobinCursor.objects.get_or_create(team=team)
    except IntegrityError:  # another transaction created it first
        pass
    return RoundRobinCursor.objects.select_for_update().get(team=team)


def route_reply(*, message_id: int) -> list[RuleFiring]:
    """Routing for the customer-replied event of one inbound message; runs once per message."""
    message = Message.objects.filter(pk=message_id, kind=Message.Kind.INBOUND).first()
    if message is None:
        return []
    cause = f"customer replied (message {message_id})"
    if RuleFiring.objects.filter(ticket_id=message.ticket_id, cause=cause).exists():
        return []
    return route_tickets(ticket_ids=[message.ticket_id], event=Event.CUSTOMER_REPLIED, cause=cause)


# -- dry run ----------------------------------------------------------------------------------


def dry_run(
    *,
    rules: Iterable[RoutingRule] | None = None,
    event: str = Event.TICKET_CREATED,
    limit: int = DRY_RUN_TICKETS,
) -> list[RoutingOutcome]:
    """What the rules (default: the active ones) would do to the last ``limit`` tickets, by
    the same evaluation the real routing uses; nothing is written."""
    latest = Ticket.objects.order_by("-created_at", "-id").values_list("pk", flat=True)[:limit]
    tickets = sorted(_tickets(list(latest), lock=False), key=lambda t: (t.created_at, t.pk))
    return _plan_batch(tickets[::-1], compiled_rules(rules), event=event)
