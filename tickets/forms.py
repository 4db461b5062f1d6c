"""Forms that parse the HTML views' input; the views hand the cleaned data to services/selectors."""

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qsl, urlencode

from django import forms
from django.forms.models import fields_for_model, model_to_dict

from helpdesk.json_documents import JSONDocumentField
from helpdesk.models import User
from tickets.extensions import customer_filters
from tickets.models import Customer, Tag, Team, Ticket
from tickets.selectors import (
    ASSIGNEE_MINE,
    ASSIGNEE_UNASSIGNED,
    SLA_BREACHED,
    SLA_DUE_SOON,
    STATUS_ACTIVE,
    STATUS_ANY,
    InboxChoices,
)
from tickets.services.customers import CUSTOMER_EDITABLE_FIELDS

MAX_BULK_TICKETS = 500


def _blank(label: str, choices) -> list[tuple[str, str]]:
    return [("", label), *choices]


def _user_choices(users: list[User]) -> list[tuple[str, str]]:
    return [(str(user.pk), user.display_name) for user in users]


def _team_choices(teams: list[Team]) -> list[tuple[str, str]]:
    return [(str(team.pk), team.name) for team in teams]


def tag_names(text: str) -> list[str]:
    """Comma-separated tag input as a clean list of lower-case names."""
    return sorted({name.strip().lower() for name in text.split(",") if name.strip()})


def add_service_errors(form: forms.Form, error: forms.ValidationError) -> None:
    """Show a service's ValidationError on the form: on its field when the form has one."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@contextmanager
def service_errors_on(form: forms.Form) -> Iterator[None]:
    """Run a service call; a ValidationError it raises goes onto the form instead of up, and
    the code after the ``with`` block (the form shown again) runs."""
    try:
        yield
    except forms.ValidationError as error:
        add_service_errors(form, error)


class TagListField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 1000)
        kwargs.setdefault("help_text", "Comma-separated")
        super().__init__(**kwargs)

    def clean(self, value):
        names = tag_names(super().clean(value) or "")
        too_long = [name for name in names if len(name) > 50]
        if too_long:
            raise forms.ValidationError(f"Tags are at most 50 characters: {', '.join(too_long)}")
        return names


class _ListFilterForm(forms.Form):
    """A GET filter form of a paginated list, with the filters other apps contribute."""

    def add_customer_filter_fields(self) -> None:
        for customer_filter in customer_filters():
            self.fields[customer_filter.param] = forms.ChoiceField(
                required=False,
                label=customer_filter.label,
                choices=_blank(f"Any {customer_filter.label.lower()}", customer_filter.choices()),
            )

    @property
    def contributed_fields(self) -> list:
        return [self[f.param] for f in customer_filters()]

    def query_string(self, **overrides) -> str:
        """The cleaned filters as a query string (for paging, sorting and saved views)."""
        values = {k: v for k, v in self.cleaned_data.items() if v not in (None, "") and k != "page"}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return urlencode(values)


class InboxFilterForm(_ListFilterForm):
    q = forms.CharField(required=False, max_length=200, label="Search")
    status = forms.ChoiceField(
        required=False,
        choices=[(STATUS_ACTIVE, "Active"), (STATUS_ANY, "Any status"), *Ticket.Status.choices],
    )
    assignee = forms.ChoiceField(required=False)
    team = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    tag = forms.ChoiceField(required=False)
    channel = forms.ChoiceField(
        required=False, choices=_blank("Any channel", Ticket.Channel.choices)
    )
    priority = forms.ChoiceField(
        required=False, choices=_blank("Any priority", Ticket.Priority.choices)
    )
    sla = forms.ChoiceField(
        required=False,
        label="SLA",
        choices=[("", "Any SLA"), (SLA_BREACHED, "SLA breached"), (SLA_DUE_SOON, "Due within 1 h")],
    )
    sort = forms.ChoiceField(
        required=False,
        choices=[
            ("updated", "Last updated"),
            ("created", "Newest"),
            ("priority", "Priority"),
            ("due", "SLA due first"),
        ],
    )
    customer = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)

    def __init__(self, data, *, choices: InboxChoices):
        super().__init__(data)
        self.fields["assignee"].choices = [
            ("", "Anyone"),
            (ASSIGNEE_MINE, "Mine"),
            (ASSIGNEE_UNASSIGNED, "Unassigned"),
            *_user_choices(choices.agents),
        ]
        self.fields["team"].choices = _blank("Any team", _team_choices(choices.teams))
        self.fields["tag"].choices = _blank("Any tag", [(t.name, t.name) for t in choices.tags])
        self.add_customer_filter_fields()


class _IdListField(forms.Field):
    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        values = value or []
        if not all(str(v).isdigit() for v in values):
            raise forms.ValidationError("Ticket ids must be numbers.")
        if len(values) > MAX_BULK_TICKETS:
            raise forms.ValidationError(f"Select at most {MAX_BULK_TICKETS} tickets.")
        return sorted({int(v) for v in values})


class BulkActionForm(forms.Form):
    ASSIGN, TAG, CLOSE = "assign", "tag", "close"
    prefix = "bulk"

    ticket = _IdListField(error_messages={"required": "Select at least one ticket."})
    action = forms.ChoiceField(choices=[(ASSIGN, "Assign"), (TAG, "Add tag"), (CLOSE, "Close")])
    assignee = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    tag = forms.CharField(required=False, max_length=50)

    def __init__(self, data, *, agents: list[User]):
        super().__init__(data)
        self.agents = {agent.pk: agent for agent in agents}
        self.fields["assignee"].choices = [("", "Nobody"), *_user_choices(agents)]

    def clean(self):
        data = super().clean()
        if data.get("action") == self.TAG and not (data.get("tag") or "").strip():
            self.add_error("tag", "Name the tag to add.")
        return data

    def service_kwargs(self) -> dict:
        """Arguments for ``bulk_update_tickets`` besides the ids and actor."""
        action = self.cleaned_data["action"]
        if action == self.ASSIGN:
            return {"assignee": self.agents.get(self.cleaned_data["assignee"])}
        if action == self.TAG:
            return {"add_tags": [self.cleaned_data["tag"].strip().lower()]}
        return {"status": Ticket.Status.CLOSED}


class SavedViewForm(forms.Form):
    name = forms.CharField(max_length=100)
    query = forms.CharField(required=False, max_length=1000)

    def clean_query(self) -> str:
        pairs = parse_qsl(self.cleaned_data["query"].lstrip("?"))
        return urlencode([(key, value) for key, value in pairs if key != "page"])


class TicketPropertiesForm(forms.Form):
    status = forms.ChoiceField(choices=Ticket.Status.choices)
    priority = forms.ChoiceField(choices=Ticket.Priority.choices)
    assignee = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    team = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    tags = TagListField()

    def __init__(self, data=None, *, ticket: Ticket, agents: list[User], teams: list[Team]):
        initial = {
            "status": ticket.status,
            "priority": ticket.priority,
            "assignee": ticket.assignee_id,
            "team": ticket.team_id,
            "tags": ", ".join(tag.name for tag in ticket.tags.all()),
        }
        super().__init__(data, initial=initial)
        self.agents = {agent.pk: agent for agent in agents}
        self.teams = {team.pk: team for team in teams}
        self.fields["assignee"].choices = [("", "Unassigned"), *_user_choices(agents)]
        self.fields["team"].choices = [("", "No team"), *_team_choices(teams)]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "status": data["status"],
            "priority": data["priority"],
            "assignee": self.agents.get(data["assignee"]),
            "team": self.teams.get(data["team"]),
            "tags": data["tags"],
        }


class ReplyForm(forms.Form):
    body_text = forms.CharField(max_length=50_000, widget=forms.Textarea(attrs={"rows": 5}))
    status = forms.ChoiceField(
        required=False,
        label="Then set status",
        choices=[
            ("", "Keep status"),
            (Ticket.Status.PENDING, "Pending"),
            (Ticket.Status.SOLVED, "Solved"),
            (Ticket.Status.ON_HOLD, "On hold"),
        ],
    )


class NoteForm(forms.Form):
    body_text = forms.CharField(max_length=50_000, widget=forms.Textarea(attrs={"rows": 4}))


class CustomerListFilterForm(_ListFilterForm):
    q = forms.CharField(required=False, max_length=200, label="Search")
    tag = forms.ChoiceField(required=False)
    organisation = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)

    def __init__(self, data, *, tags: list[Tag]):
        super().__init__(data)
        self.fields["tag"].choices = _blank("Any tag", [(t.name, t.name) for t in tags])
        self.add_customer_filter_fields()


class OrganisationListForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search")
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)


class CustomerForm(forms.Form):
    """The customer's editable profile fields plus the tag set."""

    wide_fields = ("custom_fields", "tags")

    def __init__(self, data=None, *, customer: Customer):
        initial = model_to_dict(customer, fields=CUSTOMER_EDITABLE_FIELDS)
        initial["tags"] = ", ".join(tag.name for tag in customer.tags.all())
        super().__init__(data, initial=initial)
        self.fields.update(
            fields_for_model(
                Customer,
                fields=CUSTOMER_EDITABLE_FIELDS,
                field_classes={"custom_fields": JSONDocumentField},
            )
        )
        self.fields["tags"] = TagListField()

    def clean_custom_fields(self):
        value = self.cleaned_data["custom_fields"]
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise forms.ValidationError('Enter a JSON object, e.g. {"vip": true}.')
        return value

    def profile_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in CUSTOMER_EDITABLE_FIELDS}
