from django.contrib import admin
from django.db import models

from helpdesk.json_documents import JSONDocumentField
from segments.models import Segmentation


@admin.register(Segmentation)
class SegmentationAdmin(admin.ModelAdmin):
    """Admins create segmentations and set their bounds; runs and profiles live on the pages."""

    list_display = ("name", "slug", "kind", "schedule", "enabled", "current_run")
    list_filter = ("kind", "schedule", "enabled")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("current_run", "created_at")
    formfield_overrides = {models.JSONField: {"form_class": JSONDocumentField}}
    fields = (
        "name",
        "slug",
        "kind",
        "description",
        "features",
        ("k_min", "k_max"),
        "min_segment_share",
        ("schedule", "enabled"),
        "current_run",
        "created_at",
    )
