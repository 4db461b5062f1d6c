"""Routing rules as data: the fields a condition looks at, the operators, the actions, and the
evaluation of compiled rules against a context built once per ticket.

Nothing here touches the database: the services load the ticket, the rules and the catalog of
valid names, and apply the plan this module returns (tickets/services/rules.py).
"""

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from tickets.models import RoutingRule, Ticket
from tickets.sla import OpeningHours

Event = RoutingRule.Event

# Which context fields an event changes. A rule that is not "always run" fires on an event only
# when it looks at one of them; ticket creation changes everything (None).
CHANGED_BY_EVENT: Mapping[str, frozenset[str] | None] = {
    Event.TICKET_CREATED: None,
    Event.CUSTOMER_REPLIED: frozenset({"body", "business_hours"}),
    Event.SEGMENT_CHANGED: frozenset({"segment"}),
}

SLUG = r"[-a-zA-Z0-9_]+"
SEGMENT_VALUE = re.compile(rf"^(?:{SLUG}/)?{SLUG}$")
CUSTOM_KEY = re.compile(r"^[\w-]{1,100}$")
MAX_TEXT = 1000


class RuleError(ValueError):
    """A rule that cannot be compiled; the message says which row and why."""


# -- fields and operators ---------------------------------------------------------------------

OPERATORS: Mapping[str, str] = {
    "equals": "equals",
    "not_equals": "does not equal",
    "in": "is one of",
    "not_in": "is none of",
    "contains": "contains",
    "not_contains": "does not contain",
    "regex": "matches regex",
    "gt": ">",
    "lt": "<",
    "is_set": "is set",
}

OPERATORS_BY_KIND: Mapping[str, tuple[str, ...]] = {
    "text": ("equals", "not_equals", "in", "not_in", "contains", "not_contains", "regex", "is_set"),
    "choice": ("equals", "not_equals", "in", "not_in", "is_set"),
    "number": ("equals", "not_equals", "in", "not_in", "gt", "lt", "is_set"),
    "tags": ("contains", "not_contains", "in", "not_in", "is_set"),
    "segment": ("equals", "not_equals", "in", "not_in", "is_set"),
    "any": tuple(OPERATORS),
}


@dataclass(frozen=True)
class FieldSpec:
    label: str
    kind: str
    # For choice fields: a fixed list, or the name of a list in the Catalog.
    choices: tuple[tuple[str, str], ...] = ()
    catalog: str = ""


BUSINESS_HOURS_CHOICES = (("inside", "Inside business hours"), ("outside", "Outside"))

FIELDS: Mapping[str, FieldSpec] = {
    "subject": FieldSpec("Subject", "text"),
    "body": FieldSpec("Message body", "text"),
    "channel": FieldSpec("Channel", "choice", tuple(Ticket.Channel.choices)),
    "priority": FieldSpec("Priority", "choice", tuple(Ticket.Priority.choices)),
    "mailbox": FieldSpec("Mailbox", "choice", catalog="mailboxes"),
    "tags": FieldSpec("Ticket tags", "tags"),
    "email_domain": FieldSpec("Customer email domain", "text"),
    "customer.email": FieldSpec("Customer email", "text"),
    "customer.name": FieldSpec("Customer name", "text"),
    "customer.country": FieldSpec("Customer country", "text"),
    "customer.city": FieldSpec("Customer city", "text"),
    "customer.language": FieldSpec("Customer language", "text"),
    "customer.timezone": FieldSpec("Customer time zone", "text"),
    "customer.plan": FieldSpec("Customer plan", "text"),
    "customer.gender": FieldSpec("Customer gender", "text"),
    "customer.age": FieldSpec("Customer age", "number"),
    "organisation.name": FieldSpec("Organisation name", "text"),
    "organisation.industry": FieldSpec("Organisation industry", "text"),
    "organisation.size": FieldSpec("Organisation size", "number"),
    "segment": FieldSpec("Customer segment", "segment", catalog="segments"),
    "business_hours": FieldSpec("Business hours", "choice", BUSINESS_HOURS_CHOICES),
}
CUSTOM_PREFIX = "custom."


def field_spec(name: str) -> FieldSpec | None:
    if name.startswith(CUSTOM_PREFIX) and CUSTOM_KEY.match(name.removeprefix(CUSTOM_PREFIX)):
        return FieldSpec(f"Custom field {name.removeprefix(CUSTOM_PREFIX)}", "any")
    return FIELDS.get(name)


# -- actions ----------------------------------------------------------------------------------


@dataclass
class Plan:
    """What the rules that fired want the ticket to become; starts as the ticket is now.

    ``values`` holds one entry per planned change, keyed by what the services apply: "team"
    (slug), "agent" ((strategy, team slug)), "priority", "tags" (the resulting set), and
    whatever later actions add (e.g. an SLA policy or a canned reply).
    """

    current_tags: frozenset[str]
    values: dict = field(default_factory=dict)
    stopped: bool = False

    @property
    def tags(self) -> frozenset[str]:
        return self.values.get("tags", self.current_tags)


@dataclass(frozen=True)
class ActionSpec:
    label: str
    # What the value names: "team", "priority", "tags", "none", or a Catalog list name.
    value_kind: str
    plan: Callable[[Plan, object], None]


def _set(key: str) -> Callable[[Plan, object], None]:
    def plan(draft: Plan, value) -> None:
        draft.values[key] = value

    return plan


def _assign_agent(strategy: str) -> Callable[[Plan, object], None]:
    def plan(draft: Plan, value) -> None:
        draft.values["agent"] = (strategy, value)

    return plan


def _add_tags(draft: Plan, value) -> None:
    draft.values["tags"] = draft.tags | frozenset(value)


def _remove_tags(draft: Plan, value) -> None:
    draft.values["tags"] = draft.tags - frozenset(value)


def _send_reply(draft: Plan, value) -> None:
    replies = draft.values.setdefault("canned_replies", [])
    if value not in replies:
        replies.append(value)


def _stop(draft: Plan, value) -> None:
    draft.stopped = True


ROUND_ROBIN = "round_robin"
FEWEST_OPEN = "fewest_open"

# The one table of actions: a new action is one entry here (and, if it plans a new key, the
# services' applier for that key).
ACTIONS: dict[str, ActionSpec] = {
    "assign_team": ActionSpec("Assign team", "team", _set("team")),
    "assign_round_robin": ActionSpec(
        "Assign agent in team by round-robin", "team", _assign_agent(ROUND_ROBIN)
    ),
    "assign_fewest_open": ActionSpec(
        "Assign agent in team with fewest open tickets", "team", _assign_agent(FEWEST_OPEN)
    ),
    "set_priority": ActionSpec("Set priority", "priority", _set("priority")),
    "add_tags": ActionSpec("Add tags", "tags", _add_tags),
    "remove_tags": ActionSpec("Remove tags", "tags", _remove_tags),
    "set_sla_policy": ActionSpec("Set SLA policy", "sla_policies", _set("sla_policy")),
    "send_canned_reply": ActionSpec("Send canned reply", "canned_replies", _send_reply),
    "stop_processing": ActionSpec("Stop processing further rules", "none", _stop),
}


def register_action(name: str, spec: ActionSpec) -> None:
    ACTIONS[name] = spec


# -- the catalog of names rules may use -------------------------------------------------------


@dataclass(frozen=True)
class Catalog:
    """Names that exist now, for validating rules; loaded by the services."""

    teams: frozenset[str] = frozenset()
    mailboxes: frozenset[str] = frozenset()
    segments: frozenset[str] = frozenset()
    extra: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def names(self, kind: str) -> frozenset[str] | None:
        if kind in ("teams", "mailboxes", "segments"):
            return getattr(self, kind)
        return self.extra.get(kind)


# -- cleaning rows ----------------------------------------------------------------------------


def clean_conditions(rows: Sequence[Mapping], catalog: Catalog) -> list[dict]:
    """The conditions normalised (lists split, booleans and numbers parsed); RuleError names
    the first bad row."""
    if not isinstance(rows, list | tuple):
        raise RuleError("Conditions must be a list.")
    return [_clean_condition(row, catalog, number) for number, row in enumerate(rows, 1)]


def _clean_condition(row: Mapping, catalog: Catalog, number: int) -> dict:
    where = f"Condition {number}"
    if not isinstance(row, Mapping):
        raise RuleError(f"{where}: must be an object with field, operator and value.")
    name, operator, value = row.get("field", ""), row.get("operator", ""), row.get("value")
    spec = field_spec(str(name))
    if spec is None:
        raise RuleError(f"{where}: unknown field '{name}'.")
    if operator not in OPERATORS_BY_KIND[spec.kind]:
        allowed = ", ".join(OPERATORS[op] for op in OPERATORS_BY_KIND[spec.kind])
        raise RuleError(f"{where}: {spec.label} cannot use '{operator}' (allowed: {allowed}).")
    try:
        value = _clean_value(spec, operator, value, catalog)
    except RuleError as error:
        raise RuleError(f"{where} ({spec.label}): {error}") from None
    return {"field": name, "operator": operator, "value": value}


def _clean_value(spec: FieldSpec, operator: str, value, catalog: Catalog):
    if operator == "is_set":
        return _boolean(value)
    if operator in ("in", "not_in"):
        items = _as_list(value)
        if not items:
            raise RuleError("give at least one value.")
        return [_clean_one(spec, operator, item, catalog) for item in items]
    return _clean_one(spec, operator, value, catalog)


def _clean_one(spec: FieldSpec, operator: str, value, catalog: Catalog):
    text = "" if value is None else str(value).strip()
    if not text:
        raise RuleError("a value is required.")
    if len(text) > MAX_TEXT:
        raise RuleError(f"a value is at most {MAX_TEXT} characters.")
    if operator == "regex":
        try:
            re.compile(text)
        except re.error as error:
            raise RuleError(f"bad regular expression: {error}.") from None
        return text
    if spec.kind == "number" or operator in ("gt", "lt"):
        return _number(text)
    if spec.kind == "segment":
        if not SEGMENT_VALUE.match(text):
            raise RuleError(
                f"'{text}' is not a segment: write segmentation/segment or segment (slugs)."
            )
        return text
    if spec.kind == "tags":
        return text.lower()
    if spec.kind == "choice":
        return _one_of(text, _choices(spec, catalog))
    return text


def _choices(spec: FieldSpec, catalog: Catalog) -> frozenset[str]:
    if spec.catalog:
        return catalog.names(spec.catalog) or frozenset()
    return frozenset(key for key, _ in spec.choices)


def _one_of(text: str, allowed: frozenset[str]) -> str:
    if text not in allowed:
        shown = ", ".join(sorted(allowed)) or "none defined"
        raise RuleError(f"'{text}' is not one of: {shown}.")
    return text


def _as_list(value) -> list:
    if isinstance(value, list | tuple):
        return [item for item in value if str(item).strip()]
    return [item.strip() for item in str(value or "").split(",") if item.strip()]


def _boolean(value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in ("", "true", "yes", "1"):
        return True
    if text in ("false", "no", "0"):
        return False
    raise RuleError(f"'{value}' is not yes or no.")


def _number(text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise RuleError(f"'{text}' is not a number.") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise RuleError(f"'{text}' is not a number.")
    return number


def clean_actions(rows: Sequence[Mapping], catalog: Catalog) -> list[dict]:
    if not isinstance(rows, list | tuple) or not rows:
        raise RuleError("A rule needs at least one action.")
    return [_clean_action(row, catalog, number) for number, row in enumerate(rows, 1)]


def _clean_action(row: Mapping, catalog: Catalog, number: int) -> dict:
    where = f"Action {number}"
    if not isinstance(row, Mapping):
        raise RuleError(f"{where}: must be an object with action and value.")
    name = row.get("action", "")
    spec = ACTIONS.get(name)
    if spec is None:
        raise RuleError(f"{where}: unknown action '{name}'.")
    value = row.get("value")
    try:
        value = _clean_action_value(spec, value, catalog)
    except RuleError as error:
        raise RuleError(f"{where} ({spec.label}): {error}") from None
    return {"action": name, "value": value}


def _clean_action_value(spec: ActionSpec, value, catalog: Catalog):
    if spec.value_kind == "none":
        return None
    if spec.value_kind == "tags":
        names = sorted({str(name).strip().lower() for name in _as_list(value)})
        if not names or any(len(name) > 50 for name in names):
            raise RuleError("give one or more tags of at most 50 characters.")
        return names
    text = "" if value is None else str(value).strip()
    if not text:
        raise RuleError("a value is required.")
    if spec.value_kind == "priority":
        return _one_of(text, frozenset(Ticket.Priority.values))
    if spec.value_kind == "team":
        return _one_of(text, catalog.teams)
    return _one_of(text, catalog.names(spec.value_kind) or frozenset())


# -- compiled rules and evaluation ------------------------------------------------------------

Context = Mapping[str, object]
Predicate = Callable[[Context], bool]


@dataclass(frozen=True)
class CompiledRule:
    id: int | None
    name: str
    match_all: bool
    events: frozenset[str]
    always_run: bool
    fields: frozenset[str]
    conditions: tuple[Predicate, ...]
    actions: tuple[tuple[str, object], ...]

    def listens(self, event: str, changed: frozenset[str] | None) -> bool:
        if event not in self.events:
            return False
        return self.always_run or changed is None or not self.fields.isdisjoint(changed)

    def matches(self, context: Context) -> bool:
        # Loops, not all()/any() over a generator: this runs for every rule on every ticket,
        # and the loops halve the evaluation time.
        if self.match_all:
            for condition in self.conditions:  # noqa: SIM110
                if not condition(context):
                    return False
            return True
        for condition in self.conditions:
            if condition(context):
                return True
        return not self.conditions


@dataclass(frozen=True)
class Firing:
    rule: CompiledRule
    actions: tuple[tuple[str, object], ...]


def compile_rule(rule: RoutingRule) -> CompiledRule:
    """Stored rules were cleaned on save; a broken stored row raises RuleError."""
    conditions = tuple(_predicate(row) for row in rule.conditions)
    return CompiledRule(
        id=rule.pk,
        name=rule.name,
        match_all=rule.match == RoutingRule.Match.ALL,
        events=frozenset(rule.events),
        always_run=rule.always_run,
        fields=frozenset(row["field"] for row in rule.conditions),
        conditions=conditions,
        actions=tuple((row["action"], row.get("value")) for row in rule.actions),
    )


def evaluate(
    rules: Iterable[CompiledRule], context: Context, *, event: str
) -> tuple[list[Firing], Plan]:
    """The rules that fire, in order, and the plan their actions add up to.

    Conditions see the ticket as the event left it, never the plan: a change made by a rule
    does not make another rule fire.
    """
    changed = CHANGED_BY_EVENT[event]
    plan = Plan(current_tags=context["tags"])
    firings = []
    for rule in rules:
        if not rule.listens(event, changed) or not rule.matches(context):
            continue
        for name, value in rule.actions:
            ACTIONS[name].plan(plan, value)
        firings.append(Firing(rule=rule, actions=rule.actions))
        if plan.stopped:
            break
    return firings, plan


def _predicate(row: Mapping) -> Predicate:
    name, operator, value = row["field"], row["operator"], row["value"]
    spec = field_spec(name)
    if spec is None or operator not in OPERATORS_BY_KIND[spec.kind]:
        raise RuleError(f"stored condition {row!r} is not valid")
    test = (_SET_TESTS if spec.kind in ("tags", "segment") else _SCALAR_TESTS)[operator](value)
    return lambda context: test(context.get(name))


def _fold(value) -> str:
    return str(value).casefold()


def _as_float(value) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _is_set(actual) -> bool:
    return actual not in (None, "") and actual != frozenset()


def _scalar_equals(expected):
    return _scalar_in([expected])


def _scalar_in(expected):
    """Equal to one of ``expected``: as numbers when both sides are numbers, else as folded
    text. The expected side is parsed once here, not on every ticket."""
    numbers = frozenset(n for n in map(_as_float, expected) if n is not None)
    texts = frozenset(_fold(item) for item in expected)
    non_numbers = frozenset(_fold(item) for item in expected if _as_float(item) is None)

    def test(actual) -> bool:
        if actual is None or actual == "":
            return False
        if numbers:
            number = _as_float(actual)
            if number is not None:
                return number in numbers or _fold(actual) in non_numbers
        return _fold(actual) in texts

    return test


def _contains(expected):
    needle = _fold(expected)
    return lambda actual: actual is not None and needle in _fold(actual)


def _regex(expected):
    pattern = re.compile(expected)
    return lambda actual: actual is not None and pattern.search(str(actual)) is not None


def _compare(above: bool):
    def test(expected):
        def compare(actual) -> bool:
            number = _as_float(actual)
            if number is None:
                return False
            return number > expected if above else number < expected

        return compare

    return test


def _negated(make):
    def test(expected):
        positive = make(expected)
        return lambda actual: not positive(actual)

    return test


def _set_is(expected):
    return lambda actual: _is_set(actual) == expected


_SCALAR_TESTS = {
    "equals": _scalar_equals,
    "not_equals": _negated(_scalar_equals),
    "in": _scalar_in,
    "not_in": _negated(_scalar_in),
    "contains": _contains,
    "not_contains": _negated(_contains),
    "regex": _regex,
    "gt": _compare(above=True),
    "lt": _compare(above=False),
    "is_set": _set_is,
}


def _has(expected):
    wanted = _fold(expected)
    return lambda actual: wanted in actual


def _has_any(expected):
    wanted = frozenset(_fold(item) for item in expected)
    return lambda actual: not wanted.isdisjoint(actual)


_SET_TESTS = {
    "equals": _has,
    "not_equals": _negated(_has),
    "contains": _has,
    "not_contains": _negated(_has),
    "in": _has_any,
    "not_in": _negated(_has_any),
    "is_set": _set_is,
}


# -- the context ------------------------------------------------------------------------------


def is_open(hours: OpeningHours, moment: datetime) -> bool:
    window = hours.window_on(moment.astimezone(hours.timezone).date())
    return window is not None and window[0] <= moment < window[1]


def make_context(
    *,
    ticket: Ticket,
    body: str,
    tags: Iterable[str],
    segments: Iterable[tuple[str, str]],
    at: datetime,
    hours: OpeningHours,
) -> dict:
    """Every value a condition can look at, from a ticket loaded with its customer,
    organisation and mailbox; ``segments`` are (segmentation slug, segment slug) pairs."""
    customer = ticket.customer
    organisation = customer.organisation
    context = {
        "subject": ticket.subject,
        "body": body,
        "channel": ticket.channel,
        "priority": ticket.priority,
        "mailbox": ticket.mailbox.slug if ticket.mailbox else None,
        "tags": frozenset(_fold(name) for name in tags),
        "email_domain": customer.email.rpartition("@")[2].lower(),
        "segment": frozenset(
            _fold(name) for group, slug in segments for name in (f"{group}/{slug}", slug)
        ),
        "business_hours": "inside" if is_open(hours, at) else "outside",
        "organisation.name": organisation.name if organisation else None,
        "organisation.industry": organisation.industry if organisation else None,
        "organisation.size": organisation.size if organisation else None,
    }
    for name in FIELDS:
        if name.startswith("customer."):
            context[name] = getattr(customer, name.removeprefix("customer."))
    for key, value in (customer.custom_fields or {}).items():
        context[f"{CUSTOM_PREFIX}{key}"] = value
    return context


def describe_condition(row: Mapping) -> str:
    spec = field_spec(row.get("field", ""))
    label = spec.label if spec else row.get("field", "")
    operator = OPERATORS.get(row.get("operator", ""), row.get("operator", ""))
    value = row.get("value")
    if isinstance(value, bool):
        return f"{label} {'is set' if value else 'is not set'}"
    shown = ", ".join(map(str, value)) if isinstance(value, list | tuple) else value
    return f"{label} {operator} {shown}"


def describe_action(name: str, value) -> str:
    spec = ACTIONS.get(name)
    label = spec.label if spec else name
    if value is None:
        return label
    shown = ", ".join(value) if isinstance(value, list | tuple) else value
    return f"{label}: {shown}"
