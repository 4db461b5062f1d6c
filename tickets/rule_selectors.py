"""The routing-rule list as a team lead reads it: names instead of the slugs and ids a rule
stores, looked up with one query per kind of thing the rules name, however many rules there are.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from tickets import routing
from tickets.extensions import customer_filters
from tickets.models import CannedReply, Mailbox, RoutingRule, SLAPolicy, Team, Ticket

SEGMENT_FILTER_PARAM = "segment"
DELETED = "(deleted)"

# The catalog lists (routing.FieldSpec.catalog, routing.ActionSpec.value_kind) that hold
# references, and what "#value" reads as when the referenced row is gone.
_MISSING_PREFIX = {"sla_policies": "#", "canned_replies": "#"}

OPERATOR_WORDS = {
    **routing.OPERATORS,
    "equals": "is",
    "not_equals": "is not",
    "gt": "is more than",
    "lt": "is less than",
}
PRIORITY_LABELS = dict(Ticket.Priority.choices)
ACTION_PHRASES = {
    "assign_team": "Assign to team {}",
    "assign_round_robin": "Assign round-robin to an agent in team {}",
    "assign_fewest_open": "Assign to the agent with the fewest open tickets in team {}",
    "set_priority": "Set priority {}",
    "add_tags": "Add tags {}",
    "remove_tags": "Remove tags {}",
    "set_sla_policy": "Apply SLA policy {}",
    "send_canned_reply": "Reply with canned reply {}",
}


@dataclass(frozen=True)
class Phrase:
    text: str
    # It names a team, policy, reply, mailbox or segment that no longer exists.
    broken: bool = False


@dataclass(frozen=True)
class RuleRow:
    rule: RoutingRule
    events: list[str]
    conditions: list[Phrase]
    actions: list[Phrase]


def _ids(keys: Iterable[str]) -> list[int]:
    return [int(key) for key in keys if key.isdigit()]


def _segment_names(keys: Iterable[str]) -> list[tuple[str, str]]:
    """Names of the current segments; a bare segment slug matches it in any segmentation."""
    labels = defaultdict(list)
    for f in customer_filters():
        if f.param == SEGMENT_FILTER_PARAM:
            for value, label in f.choices():
                labels[value].append(label)
                if "/" in value:
                    labels[value.rpartition("/")[2]].append(label)
    return [(value, " or ".join(found)) for value, found in labels.items()]


_LOADERS: Mapping[str, Callable[[set[str]], Iterable[tuple]]] = {
    "team": lambda keys: Team.objects.filter(slug__in=keys).values_list("slug", "name"),
    "mailboxes": lambda keys: Mailbox.objects.filter(slug__in=keys).values_list("slug", "address"),
    "segments": _segment_names,
    "sla_policies": lambda keys: SLAPolicy.objects.filter(pk__in=_ids(keys)).values_list(
        "pk", "name"
    ),
    "canned_replies": lambda keys: CannedReply.objects.filter(pk__in=_ids(keys)).values_list(
        "pk", "title"
    ),
}


def _values(value) -> list:
    return list(value) if isinstance(value, list | tuple) else [value]


def _references(rules: list[RoutingRule]) -> dict[str, set[str]]:
    """The values each catalog list is asked about, over all the rules."""
    wanted = defaultdict(set)
    for rule in rules:
        for row in rule.conditions:
            spec = routing.field_spec(row.get("field", ""))
            if spec and spec.catalog in _LOADERS and not isinstance(row.get("value"), bool):
                wanted[spec.catalog].update(str(v) for v in _values(row.get("value")))
        for row in rule.actions:
            spec = routing.ACTIONS.get(row.get("action", ""))
            if spec and spec.value_kind in _LOADERS:
                wanted[spec.value_kind].update(str(v) for v in _values(row.get("value")))
    return wanted


def _load_names(rules: list[RoutingRule]) -> dict[str, dict[str, str]]:
    return {
        kind: {str(key): name for key, name in _LOADERS[kind](keys)}
        for kind, keys in _references(rules).items()
    }


class _Namer:
    """Shows one stored value of a kind, remembering whether it named something now gone."""

    def __init__(self, names: Mapping[str, Mapping[str, str]]):
        self.names = names
        self.broken = False

    def show(self, kind: str, value) -> str:
        if kind in _LOADERS:
            name = self.names.get(kind, {}).get(str(value))
            if name is None:
                self.broken = True
                return f"{_MISSING_PREFIX.get(kind, '')}{value} {DELETED}"
            return f"'{name}'" if kind == "canned_replies" else name
        if kind == "priority":
            return PRIORITY_LABELS.get(value, value)
        return str(value)

    def show_all(self, kind: str, value) -> str:
        return ", ".join(self.show(kind, item) for item in _values(value))


def _condition(row: Mapping, names: Mapping) -> Phrase:
    spec = routing.field_spec(row.get("field", ""))
    if spec is None:
        return Phrase(routing.describe_condition(row))
    value = row.get("value")
    if isinstance(value, bool):
        return Phrase(f"{spec.label} {'is set' if value else 'is not set'}")
    namer = _Namer(names)
    if spec.catalog:
        shown = namer.show_all(spec.catalog, value)
    elif spec.choices:
        labels = dict(spec.choices)
        shown = ", ".join(str(labels.get(item, item)) for item in _values(value))
    elif spec.kind in ("text", "any"):
        shown = ", ".join(f"'{item}'" for item in _values(value))
    else:
        shown = ", ".join(map(str, _values(value)))
    operator = row.get("operator", "")
    return Phrase(f"{spec.label} {OPERATOR_WORDS.get(operator, operator)} {shown}", namer.broken)


def _action(row: Mapping, names: Mapping) -> Phrase:
    name, value = row.get("action", ""), row.get("value")
    spec = routing.ACTIONS.get(name)
    if spec is None or name not in ACTION_PHRASES:
        return Phrase(routing.describe_action(name, value))
    namer = _Namer(names)
    shown = namer.show_all(spec.value_kind, value)
    return Phrase(ACTION_PHRASES[name].format(shown), namer.broken)


def rule_rows() -> list[RuleRow]:
    """Every rule in run order, its conditions and actions in words."""
    rules = list(RoutingRule.objects.order_by("order", "id"))
    names = _load_names(rules)
    events = dict(RoutingRule.Event.choices)
    return [
        RuleRow(
            rule=rule,
            events=[events.get(event, event) for event in rule.events],
            conditions=[_condition(row, names) for row in rule.conditions],
            actions=[_action(row, names) for row in rule.actions],
        )
        for rule in rules
    ]
