"""Forms of the segment pages: they validate input; the services write."""

from collections.abc import Sequence

from django import forms

from segments.models import Segment
from segments.rules import OPERATORS
from tickets.models import Team

MAX_CRITERIA = 10
BLANK_CRITERIA_ROWS = 2
VALUE_MAX_CHARS = 500
MEMBER_QUERY_MAX_CHARS = 200


class SegmentProfileForm(forms.Form):
    """The profile fields a lead edits; ``profile_data`` is what the service receives."""

    wide_fields = ("description", "key_traits", "needs", "value_to_business", "notes")

    name = forms.CharField(
        max_length=100, required=False, help_text="Leave empty to use the proposed name."
    )
    colour = forms.RegexField(
        regex=r"^#[0-9a-fA-F]{6}$",
        error_messages={"invalid": "Use a colour like #2563eb."},
        widget=forms.TextInput(attrs={"type": "color"}),
        label="Badge colour",
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    key_traits = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="One per line. Empty: the traits the last run found.",
    )
    needs = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Needs and pain points"
    )
    support_preference = forms.ChoiceField(
        choices=Segment.Channel.choices, required=False, label="Preferred support channel"
    )
    value_to_business = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Value to the business"
    )
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="Shown to agents beside every ticket of these customers.",
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.order_by("name"), required=False, empty_label="No team"
    )

    def __init__(self, *args, segment: Segment, **kwargs):
        initial = {name: getattr(segment, name) for name in self.base_fields if name != "team"}
        initial.update(key_traits="\n".join(segment.key_traits), team=segment.team_id)
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["name"].widget.attrs["placeholder"] = segment.proposed_name
        self.fields["description"].widget.attrs["placeholder"] = segment.proposed_description

    def profile_data(self) -> dict:
        return {**self.cleaned_data, "key_traits": self.cleaned_data["key_traits"].splitlines()}


class RuleSegmentForm(forms.Form):
    name = forms.CharField(max_length=100)
    match = forms.ChoiceField(
        choices=Segment.Match.choices, widget=forms.RadioSelect, initial=Segment.Match.ALL
    )


class CriterionForm(forms.Form):
    """One row of criteria; a row without a field is left out."""

    field = forms.ChoiceField(required=False)
    op = forms.ChoiceField(choices=[(op, op) for op in OPERATORS], required=False, label="Is")
    value = forms.CharField(
        max_length=VALUE_MAX_CHARS,
        required=False,
        help_text="For 'in', separate values with commas.",
    )

    def __init__(self, *args, columns: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = [("", "—"), *((c, c.replace("_", " ")) for c in columns)]

    def criterion(self) -> dict | None:
        data = self.cleaned_data
        if not data.get("field"):
            return None
        return {"field": data["field"], "op": data["op"], "value": data["value"]}


CriteriaFormSet = forms.formset_factory(
    CriterionForm, extra=0, max_num=MAX_CRITERIA, validate_max=True, absolute_max=MAX_CRITERIA
)


def criteria_formset(data, *, columns: list[str], criteria: Sequence[dict] = ()) -> CriteriaFormSet:
    """The criteria rows: the saved ones plus blank rows to add more."""
    initial = [{**c, "value": _as_text(c["value"])} for c in criteria]
    rows = min(MAX_CRITERIA, len(initial) + BLANK_CRITERIA_ROWS)
    initial += [{} for _ in range(rows - len(initial))]
    return CriteriaFormSet(
        data, initial=initial, prefix="criteria", form_kwargs={"columns": columns}
    )


def criteria_from(formset: CriteriaFormSet) -> list[dict]:
    return [c for form in formset if (c := form.criterion()) is not None]


def _as_text(value) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


class MemberSearchForm(forms.Form):
    q = forms.CharField(max_length=MEMBER_QUERY_MAX_CHARS, required=False, label="Search")
    page = forms.IntegerField(min_value=1, max_value=10**9, required=False)
