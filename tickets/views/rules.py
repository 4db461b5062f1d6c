"""The routing-rule editor for team leads: list, reorder, enable, create, edit and dry run."""

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from helpdesk.permissions import lead_required
from tickets import routing, rule_selectors
from tickets.extensions import customer_filters
from tickets.forms import add_service_errors
from tickets.models import CannedReply, Customer, Mailbox, RoutingRule, SLAPolicy, Team, Ticket
from tickets.services import rules as rule_services

MAX_ROWS = 30
CUSTOM_KEY_SAMPLE = 500


class RuleForm(forms.Form):
    name = forms.CharField(max_length=100)
    match = forms.ChoiceField(choices=RoutingRule.Match.choices, initial=RoutingRule.Match.ALL)
    events = forms.MultipleChoiceField(
        choices=RoutingRule.Event.choices, widget=forms.CheckboxSelectMultiple
    )
    always_run = forms.BooleanField(
        required=False,
        label="Always run",
        help_text="Fire on every chosen event, not only when a field the rule looks at changed.",
    )
    active = forms.BooleanField(required=False, initial=True)


def _rows(data, prefix: str, keys: tuple[str, str]) -> list[dict]:
    """Parallel lists ``<prefix>_<key>`` from the form as row dicts (blank rows dropped)."""
    columns = [data.getlist(f"{prefix}_{key}") for key in keys]
    rows = [dict(zip(keys, values, strict=False)) for values in zip(*columns, strict=False)]
    return [row for row in rows if any(str(v).strip() for v in row.values())][:MAX_ROWS]


def _editor_rows(request, rule: RoutingRule | None) -> tuple[list[dict], list[dict]]:
    if request.method != "POST":
        if rule is None:
            return [{"field": "subject", "operator": "contains", "value": ""}], [
                {"action": "assign_team", "value": ""}
            ]
        return [_shown_row(row) for row in rule.conditions], [
            _shown_row(row) for row in rule.actions
        ]
    conditions = _rows(request.POST, "condition", ("field", "operator", "value"))
    actions = _rows(request.POST, "action", ("action", "value"))
    edits = {
        "add_condition": lambda: conditions.append({"field": "subject", "operator": "contains"}),
        "add_action": lambda: actions.append({"action": "assign_team"}),
    }
    for name, edit in edits.items():
        if name in request.POST:
            edit()
    for name, rows in (("remove_condition", conditions), ("remove_action", actions)):
        index = request.POST.get(name, "")
        if index.isdigit() and int(index) < len(rows):
            rows.pop(int(index))
    return conditions, actions


def _shown_row(row: dict) -> dict:
    value = row.get("value")
    if isinstance(value, list):
        value = ", ".join(str(item) for item in value)
    elif isinstance(value, bool):
        value = "yes" if value else "no"
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    return {**row, "value": "" if value is None else value}


def _choices() -> dict:
    """Every list the editor offers, keyed like FieldSpec.catalog / ActionSpec.value_kind."""
    segment_choices = [
        choice for f in customer_filters() if f.param == "segment" for choice in f.choices()
    ]
    return {
        "fields": [
            *((name, spec.label) for name, spec in routing.FIELDS.items()),
            *((f"{routing.CUSTOM_PREFIX}{key}", f"Custom field {key}") for key in _custom_keys()),
        ],
        "operators": list(routing.OPERATORS.items()),
        "operators_by_kind": routing.OPERATORS_BY_KIND,
        "actions": [(name, spec.label) for name, spec in routing.ACTIONS.items()],
        "team": list(Team.objects.values_list("slug", "name")),
        "mailboxes": [(slug, slug) for slug in Mailbox.objects.values_list("slug", flat=True)],
        "segments": segment_choices,
        "priority": list(Ticket.Priority.choices),
        "sla_policies": [
            (str(pk), name) for pk, name in SLAPolicy.objects.values_list("pk", "name")
        ],
        "canned_replies": [
            (str(pk), title)
            for pk, title in CannedReply.objects.filter(owner__isnull=True).values_list(
                "pk", "title"
            )
        ],
    }


def _custom_keys() -> list[str]:
    """Custom-field keys of recent customers: what a lead can name in a condition."""
    recent = Customer.objects.order_by("-id").values_list("custom_fields", flat=True)
    keys = {key for fields in recent[:CUSTOM_KEY_SAMPLE] if fields for key in fields}
    return sorted(key for key in keys if routing.CUSTOM_KEY.match(key))


def _value_choices(choices: dict, conditions: list[dict], actions: list[dict]) -> None:
    """Give each row the operators and suggested values that fit its field or action."""
    for row in conditions:
        spec = routing.field_spec(row.get("field", "")) or routing.FIELDS["subject"]
        row["operators"] = [
            (op, routing.OPERATORS[op]) for op in routing.OPERATORS_BY_KIND[spec.kind]
        ]
        row["suggestions"] = list(spec.choices) or choices.get(spec.catalog, [])
    for row in actions:
        spec = routing.ACTIONS.get(row.get("action", ""))
        kind = spec.value_kind if spec else "none"
        row["needs_value"] = kind != "none"
        row["suggestions"] = choices.get(kind, [])


def _rule_data(form: RuleForm, conditions: list[dict], actions: list[dict]) -> dict:
    return {
        **form.cleaned_data,
        "conditions": conditions,
        "actions": [{"action": row.get("action"), "value": row.get("value")} for row in actions],
    }


def _editor(request, rule: RoutingRule | None):
    conditions, actions = _editor_rows(request, rule)
    initial = None
    if rule is not None:
        initial = {key: getattr(rule, key) for key in RuleForm.base_fields}
    form = RuleForm(request.POST if request.method == "POST" else None, initial=initial)
    outcomes, status = None, 200
    wants = request.POST.get("intent", "") if request.method == "POST" else ""
    if wants in ("save", "dry_run") and form.is_valid():
        data = _rule_data(form, conditions, actions)
        try:
            if wants == "dry_run":
                draft = RoutingRule(**rule_services.clean_rule(**data))
                outcomes = rule_services.dry_run(rules=[draft])
            elif rule is None:
                rule_services.create_rule(actor=request.user, **data)
            else:
                rule_services.update_rule(rule=rule, actor=request.user, **data)
        except ValidationError as error:
            add_service_errors(form, error)
            status = 400
        else:
            if wants == "save":
                return _to_rule_list(request)
    elif wants in ("save", "dry_run"):
        status = 400
    choices = _choices()
    _value_choices(choices, conditions, actions)
    context = {
        "rule": rule,
        "form": form,
        "conditions": conditions,
        "actions": actions,
        "choices": choices,
        "outcomes": outcomes,
        "matched": sum(1 for outcome in outcomes or () if outcome.firings),
    }
    return render(request, "tickets/rules/rule_form.html", context, status=status)


@lead_required
@require_http_methods(["GET", "POST"])
def rule_create(request):
    return _editor(request, None)


@lead_required
@require_http_methods(["GET", "POST"])
def rule_edit(request, rule_id: int):
    return _editor(request, get_object_or_404(RoutingRule, pk=rule_id))


def _render_list(request, *, partial: bool = False):
    template = (
        "tickets/rules/partials/rule_table.html" if partial else "tickets/rules/rule_list.html"
    )
    return render(request, template, {"rows": rule_selectors.rule_rows()})


@lead_required
@require_http_methods(["GET"])
def rule_list(request):
    return _render_list(request)


@lead_required
@require_POST
def rule_move(request, rule_id: int):
    offset = {"up": -1, "down": 1}.get(request.POST.get("direction", ""))
    if offset is None:
        return HttpResponseBadRequest("direction must be up or down")
    rule_services.move_rule(
        rule=get_object_or_404(RoutingRule, pk=rule_id), offset=offset, actor=request.user
    )
    return _list_or_redirect(request)


@lead_required
@require_POST
def rule_toggle(request, rule_id: int):
    rule = get_object_or_404(RoutingRule, pk=rule_id)
    rule_services.set_rule_active(rule=rule, active=not rule.active, actor=request.user)
    return _list_or_redirect(request)


def _to_rule_list(request):
    # An htmx post would follow a plain redirect inside the form's swap target.
    if request.htmx:
        return HttpResponseClientRedirect(reverse("tickets:rules"))
    return redirect("tickets:rules")


def _list_or_redirect(request):
    if request.htmx:
        return _render_list(request, partial=True)
    return redirect("tickets:rules")


@lead_required
@require_http_methods(["GET"])
def rule_dry_run(request):
    event = request.GET.get("event", RoutingRule.Event.TICKET_CREATED)
    if event not in RoutingRule.Event.values:
        event = RoutingRule.Event.TICKET_CREATED
    outcomes = rule_services.dry_run(event=event)
    context = {
        "outcomes": outcomes,
        "matched": sum(1 for outcome in outcomes if outcome.firings),
        "event": event,
        "events": RoutingRule.Event.choices,
    }
    return render(request, "tickets/rules/dry_run.html", context)
