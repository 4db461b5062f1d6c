"""SLA policies and business calendars: the leads' pages."""

from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from helpdesk.permissions import lead_required
from tickets.forms import service_errors_on
from tickets.models import BusinessCalendar, SLAPolicy, Ticket
from tickets.services.sla import save_business_calendar, save_sla_policy
from tickets.views.editing import render_form_page

WEEKDAYS = [(1, "Mon"), (2, "Tue"), (3, "Wed"), (4, "Thu"), (5, "Fri"), (6, "Sat"), (7, "Sun")]


class SLAPolicyForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    calendar = forms.ModelChoiceField(
        queryset=BusinessCalendar.objects.all(), required=False, empty_label="24/7"
    )
    is_default = forms.BooleanField(
        required=False, label="Default", help_text="For tickets no routing rule gave a policy"
    )

    def __init__(self, data=None, *, policy: SLAPolicy | None = None):
        super().__init__(data, initial=self._initial(policy) if policy else None)
        for priority, label in Ticket.Priority.choices:
            for kind, what in (("first_response", "first response"), ("resolution", "resolution")):
                self.fields[f"{priority}_{kind}"] = forms.IntegerField(
                    required=False,
                    min_value=1,
                    max_value=525_600,
                    label=f"{label}: {what} (minutes)",
                )

    @staticmethod
    def _initial(policy: SLAPolicy) -> dict:
        initial = {
            "name": policy.name,
            "description": policy.description,
            "calendar": policy.calendar_id,
            "is_default": policy.is_default,
        }
        for target in policy.targets.all():
            initial[f"{target.priority}_first_response"] = target.first_response_minutes
            initial[f"{target.priority}_resolution"] = target.resolution_minutes
        return initial

    def targets(self) -> dict:
        data = self.cleaned_data
        return {
            priority: (data[f"{priority}_first_response"], data[f"{priority}_resolution"])
            for priority in Ticket.Priority.values
        }


class HolidaysField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 4})

    def to_python(self, value) -> list[str]:
        lines = [line.strip() for line in (value or "").replace(",", "\n").splitlines()]
        days = [line for line in lines if line]
        try:
            return [date.fromisoformat(day).isoformat() for day in days]
        except ValueError as error:
            raise ValidationError(f"One date per line, like 2025-12-25 ({error}).") from error


class CalendarForm(forms.Form):
    name = forms.CharField(max_length=100)
    timezone = forms.CharField(max_length=64, initial="Europe/Berlin", help_text="IANA name")
    weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS, coerce=int, widget=forms.CheckboxSelectMultiple, initial=[1, 2, 3, 4, 5]
    )
    opens_at = forms.TimeField(initial="09:00", widget=forms.TimeInput(attrs={"type": "time"}))
    closes_at = forms.TimeField(initial="17:00", widget=forms.TimeInput(attrs={"type": "time"}))
    holidays = HolidaysField(required=False, help_text="One date per line (YYYY-MM-DD)")

    @classmethod
    def initial_for(cls, calendar: BusinessCalendar) -> dict:
        return {
            "name": calendar.name,
            "timezone": calendar.timezone,
            "weekdays": calendar.weekdays,
            "opens_at": calendar.opens_at,
            "closes_at": calendar.closes_at,
            "holidays": "\n".join(calendar.holidays),
        }


@lead_required
@require_GET
def sla_overview(request):
    policies = SLAPolicy.objects.select_related("calendar").prefetch_related("targets")
    context = {
        "policies": list(policies),
        "calendars": list(BusinessCalendar.objects.all()),
        "priorities": Ticket.Priority.choices,
    }
    return render(request, "tickets/sla/overview.html", context)


@lead_required
@require_http_methods(["GET", "POST"])
def policy_edit(request, policy_id: int | None = None):
    policy = get_object_or_404(SLAPolicy, pk=policy_id) if policy_id else None
    form = SLAPolicyForm(request.POST or None, policy=policy)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with service_errors_on(form):
            save_sla_policy(
                policy=policy,
                name=data["name"],
                description=data["description"],
                calendar=data["calendar"],
                is_default=data["is_default"],
                targets=form.targets(),
                actor=request.user,
            )
            return redirect("tickets:sla")
    title = f"Edit “{policy.name}”" if policy else "New SLA policy"
    return _sla_form_page(request, form, title=title, testid="sla-policy-form")


@lead_required
@require_http_methods(["GET", "POST"])
def calendar_edit(request, calendar_id: int | None = None):
    calendar = get_object_or_404(BusinessCalendar, pk=calendar_id) if calendar_id else None
    initial = CalendarForm.initial_for(calendar) if calendar else None
    form = CalendarForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with service_errors_on(form):
            save_business_calendar(
                calendar=calendar,
                name=data["name"],
                timezone_name=data["timezone"],
                weekdays=data["weekdays"],
                opens_at=data["opens_at"],
                closes_at=data["closes_at"],
                holidays=data["holidays"],
                actor=request.user,
            )
            return redirect("tickets:sla")
    title = f"Edit “{calendar.name}”" if calendar else "New business calendar"
    return _sla_form_page(request, form, title=title, testid="calendar-form")


def _sla_form_page(request, form, *, title: str, testid: str):
    return render_form_page(
        request,
        form,
        title=title,
        back_url=reverse("tickets:sla"),
        back_label="SLA policies",
        testid=testid,
    )
