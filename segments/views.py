"""Segment pages: segmentations, runs with live progress, segments, profiles and rules."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from helpdesk.not_found import missing_as_404
from helpdesk.permissions import agent_required, lead_required
from segments import page_selectors, selectors, services
from segments.charts import sparkline
from segments.forms import (
    MemberSearchForm,
    RuleSegmentForm,
    SegmentProfileForm,
    criteria_formset,
    criteria_from,
)
from segments.models import Segment, Segmentation, SegmentRun
from tickets.forms import service_errors_on

TREND_CHART = {"width": 300, "height": 90, "pad": 8}


@agent_required
@require_GET
def segmentation_list(request):
    rows = page_selectors.segmentation_rows()
    return render(request, "segments/segmentation_list.html", {"rows": rows})


@lead_required
@require_POST
def start_run(request, slug: str):
    segmentation = get_object_or_404(Segmentation, slug=slug)
    try:
        run = services.start_segment_run(segmentation=segmentation, requested_by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("segments:segmentation", slug=slug)
    return redirect("segments:run", run_id=run.pk)


@agent_required
@require_GET
def run_detail(request, run_id: int):
    return render(request, "segments/run_detail.html", {"report": _run_report(run_id)})


@agent_required
@require_GET
def run_progress(request, run_id: int):
    return render(request, "segments/partials/run_progress.html", {"report": _run_report(run_id)})


def _run_report(run_id: int) -> page_selectors.RunReport:
    with missing_as_404(SegmentRun, "No such run."):
        return page_selectors.run_report(run_id=run_id)


@agent_required
@require_GET
def segmentation_detail(request, slug: str):
    with missing_as_404(Segmentation, "No such segmentation."):
        page = page_selectors.segmentation_page(slug=slug)
    context = {
        "page": page,
        "rows": [(summary, sparkline(summary.trend_sizes)) for summary in page.segments],
        "runs": page_selectors.recent_runs(segmentation=page.segmentation),
    }
    return render(request, "segments/segmentation_detail.html", context)


@agent_required
@require_GET
def segment_detail(request, segment_id: int):
    page = _segment_page(segment_id)
    search = MemberSearchForm(request.GET)
    members, status = None, 400
    if search.is_valid():
        members = page_selectors.segment_members_page(
            segment=page.segment,
            query=search.cleaned_data["q"],
            number=search.cleaned_data["page"] or 1,
        )
        status = 200
    context = {
        "page": page,
        "chart": sparkline(page.summary.trend_sizes, **TREND_CHART),
        "search": search,
        "members": members,
    }
    return render(request, "segments/segment_detail.html", context, status=status)


def _segment_page(segment_id: int) -> page_selectors.SegmentPage:
    with missing_as_404(Segment, "No such segment."):
        return page_selectors.segment_page(segment_id=segment_id)


@agent_required
@require_GET
def segment_export(request, segment_id: int):
    segment = get_object_or_404(Segment.objects.select_related("segmentation"), pk=segment_id)
    search = MemberSearchForm(request.GET)
    if not search.is_valid():
        return HttpResponseBadRequest(search.errors.as_text(), content_type="text/plain")
    lines = page_selectors.segment_members_csv(segment=segment, query=search.cleaned_data["q"])
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    filename = f"{segment.segmentation.slug}-{segment.slug}-members.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@lead_required
@require_http_methods(["GET", "POST"])
def segment_edit(request, segment_id: int):
    segment = get_object_or_404(Segment.objects.select_related("segmentation"), pk=segment_id)
    form = SegmentProfileForm(request.POST or None, segment=segment)
    if request.method == "POST" and form.is_valid():
        with service_errors_on(form):
            services.update_segment_profile(
                segment=segment, editor=request.user, data=form.profile_data()
            )
            messages.success(request, f"Saved the profile of {segment.label}.")
            return redirect("segments:segment", segment_id=segment.pk)
    context = {"segment": segment, "form": form}
    status = 400 if request.method == "POST" else 200
    return render(request, "segments/segment_edit.html", context, status=status)


@lead_required
@require_http_methods(["GET", "POST"])
def rule_segment_new(request, slug: str):
    segmentation = get_object_or_404(Segmentation, slug=slug, kind=Segmentation.Kind.RULE)
    return _rule_segment_form(request, segmentation, segment=None)


@lead_required
@require_http_methods(["GET", "POST"])
def rule_segment_edit(request, segment_id: int):
    segment = get_object_or_404(
        Segment.objects.select_related("segmentation"),
        pk=segment_id,
        segmentation__kind=Segmentation.Kind.RULE,
    )
    return _rule_segment_form(request, segment.segmentation, segment=segment)


def _rule_segment_form(request, segmentation: Segmentation, *, segment: Segment | None):
    initial = {"name": segment.label, "match": segment.match} if segment else None
    form = RuleSegmentForm(request.POST or None, initial=initial)
    criteria = criteria_formset(
        request.POST or None,
        columns=services.feature_columns(),
        criteria=segment.criteria if segment else (),
    )
    if request.method == "POST" and form.is_valid() and criteria.is_valid():
        match, rows = form.cleaned_data["match"], criteria_from(criteria)
        with service_errors_on(form):
            # Counting also checks each value against its column's type in today's data.
            count = selectors.preview_rule_segment(criteria=rows, match=match)
            saved = services.save_rule_segment(
                segmentation=segmentation,
                segment=segment,
                name=form.cleaned_data["name"],
                match=match,
                criteria=rows,
                editor=request.user,
            )
            messages.success(
                request,
                f"Saved {saved.label}: {count} customers match now; "
                "the next run gives them the badge.",
            )
            return redirect("segments:segment", segment_id=saved.pk)
    context = {"segmentation": segmentation, "segment": segment, "form": form, "criteria": criteria}
    status = 400 if request.method == "POST" else 200
    return render(request, "segments/rule_segment_form.html", context, status=status)


@lead_required
@require_POST
def rule_preview(request):
    form = RuleSegmentForm(request.POST)
    criteria = criteria_formset(request.POST, columns=services.feature_columns())
    context: dict = {"errors": []}
    if not (criteria.is_valid() and "match" not in form.errors):
        context["errors"] = _messages_of(form, criteria)
        return render(request, "segments/partials/rule_preview.html", context, status=400)
    try:
        context["count"] = selectors.preview_rule_segment(
            criteria=criteria_from(criteria), match=form.cleaned_data["match"]
        )
    except ValidationError as error:
        context["errors"] = error.messages
        return render(request, "segments/partials/rule_preview.html", context, status=400)
    context["population"] = len(selectors.preview_frame())
    return render(request, "segments/partials/rule_preview.html", context)


def _messages_of(form, formset) -> list[str]:
    found = [str(e) for e in form.errors.get("match", [])] + list(formset.non_form_errors())
    for position, errors in enumerate(formset.errors, start=1):
        found += [f"Criterion {position}: {e}" for field in errors.values() for e in field]
    return found
