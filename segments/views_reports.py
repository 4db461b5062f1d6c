"""Per-segment report pages for leads: the figures, charts and a CSV of every table."""

from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from helpdesk.permissions import lead_required
from segments import report_selectors, reports
from segments.models import Segmentation

DEFAULT_DAYS = 30
BAR_CHARTS = (
    ("Tickets per customer", "contact_rate", ""),
    ("CSAT satisfied", "csat_satisfied_percent", "%"),
    ("Median first response", "median_first_response_hours", "h"),
    ("Retention", "retention_percent", "%"),
)


class ReportForm(forms.Form):
    segmentation = forms.ModelChoiceField(
        queryset=Segmentation.objects.filter(current_run__isnull=False),
        to_field_name="slug",
        required=False,
        empty_label="No segmentation",
    )
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            cleaned["period"] = reports.Period(start=cleaned["start"], end=cleaned["end"])
        except ValidationError as error:
            raise ValidationError(error.message_dict["end"]) from error
        return cleaned


def _form(request) -> ReportForm:
    """The filter form bound to the query string, with the last 30 days and the first
    segmentation that has a current run as defaults."""
    today = timezone.localdate()
    defaults = {
        "start": (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat(),
        "end": today.isoformat(),
    }
    first = ReportForm.base_fields["segmentation"].queryset.order_by("name").first()
    if first is not None:
        defaults["segmentation"] = first.slug
    return ReportForm({**defaults, **request.GET.dict()})


def _report(form: ReportForm) -> reports.Report:
    return report_selectors.segment_report(
        segmentation=form.cleaned_data["segmentation"], period=form.cleaned_data["period"]
    )


@lead_required
@require_GET
def segment_report(request):
    form = _form(request)
    if not form.is_valid():
        return render(request, "segments/reports/report.html", {"form": form}, status=400)
    report = _report(form)
    lines = [report.overall, *report.segments]
    context = {
        "form": form,
        "report": report,
        "query": request.GET.urlencode(),
        "tables": {name: reports.table(report, name) for name in reports.TABLES},
        "bar_charts": [
            reports.bar_chart(title, lines, attribute, unit=unit)
            for title, attribute, unit in BAR_CHARTS
        ],
        "volume_chart": reports.line_chart("Tickets per week", report.weeks, "tickets"),
        "csat_chart": reports.line_chart(
            "CSAT mean per week (1-5)", report.weeks, "csat_mean", top=5
        ),
    }
    return render(request, "segments/reports/report.html", context)


@lead_required
@require_GET
def segment_report_csv(request, table: str):
    if table not in reports.TABLES:
        raise Http404("No such table.")
    form = _form(request)
    if not form.is_valid():
        return HttpResponse(form.errors.as_text(), status=400, content_type="text/plain")
    report = _report(form)
    header, rows = reports.table(report, table)
    period = report.period
    response = HttpResponse(reports.to_csv(header, rows), content_type="text/csv")
    filename = f"report-{table}-{period.start}-{period.end}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
