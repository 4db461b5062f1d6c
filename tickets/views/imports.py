"""The CSV upload page and the import job page with its live progress (htmx polling)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from helpdesk.permissions import lead_required
from tickets import services
from tickets.models import ImportJob
from tickets.services.imports import IMPORT_KINDS, live_progress, progress_percent

MAX_UPLOAD_BYTES = 200 * 1024 * 1024
ERRORS_PER_PAGE = 100
RECENT_JOBS = 20


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label="What the file holds")
    file = forms.FileField(label="CSV file")
    skip_invalid = forms.BooleanField(
        required=False,
        label="Skip invalid rows",
        help_text="Import the valid rows and list the others. Otherwise a file with errors "
        "imports nothing.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(name, name.capitalize()) for name in sorted(IMPORT_KINDS)]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".csv"):
            raise forms.ValidationError("Upload a .csv file.")
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size // 2**20} MB; the limit is "
                f"{MAX_UPLOAD_BYTES // 2**20} MB. Split it, or use the import_data command."
            )
        return upload


@lead_required
@require_http_methods(["GET", "POST"])
def import_upload(request):
    form = ImportUploadForm(request.POST, request.FILES) if request.method == "POST" else None
    if form and form.is_valid():
        job = services.start_import_job(
            kind=form.cleaned_data["kind"],
            file=form.cleaned_data["file"],
            skip_invalid=form.cleaned_data["skip_invalid"],
            created_by=request.user,
        )
        return redirect("tickets:import_job", job_id=job.pk)
    jobs = ImportJob.objects.select_related("created_by").defer("errors")[:RECENT_JOBS]
    status = 400 if form else 200
    context = {
        "form": form or ImportUploadForm(),
        "jobs": jobs,
        "max_mb": MAX_UPLOAD_BYTES // 2**20,
    }
    return render(request, "tickets/imports/upload.html", context, status=status)


@lead_required
@require_GET
def import_job(request, job_id: int):
    return render(request, "tickets/imports/job.html", _job_context(request, job_id))


@lead_required
@require_GET
def import_job_progress(request, job_id: int):
    return render(
        request, "tickets/imports/partials/job_progress.html", _job_context(request, job_id)
    )


@lead_required
@require_POST
def import_retry(request, job_id: int):
    job = get_object_or_404(ImportJob, pk=job_id)
    try:
        retry = services.retry_import_job(job=job, created_by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("tickets:import_job", job_id=job.pk)
    return redirect("tickets:import_job", job_id=retry.pk)


def _job_context(request, job_id: int) -> dict:
    job = get_object_or_404(ImportJob.objects.select_related("created_by"), pk=job_id)
    phase, done, total = live_progress(job)
    errors = Paginator(job.errors, ERRORS_PER_PAGE).get_page(request.GET.get("page"))
    percent = progress_percent(job, done, total)
    return {
        "job": job,
        "phase": phase,
        "done": done,
        "total": total,
        "percent": percent,
        "errors": errors,
    }
