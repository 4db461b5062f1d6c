from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from helpdesk.models import AuditLog, User

admin.site.register(User, UserAdmin)


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor", "action", "target_type", "target_id", "cause")
    list_filter = ("action", "target_type")
