from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from helpdesk.models import AuditLog, User


@admin.register(User)
class HelpdeskUserAdmin(UserAdmin):
    fieldsets = (*UserAdmin.fieldsets, ("Help desk", {"fields": ("away",)}))
    list_display = (*UserAdmin.list_display, "away")
    list_filter = (*UserAdmin.list_filter, "away")


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor", "action", "target_type", "target_id", "cause")
    list_filter = ("action", "target_type")
