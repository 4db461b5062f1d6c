from django.contrib import admin

from surveys.models import SurveyInvitation, SurveyResponse


@admin.register(SurveyInvitation)
class SurveyInvitationAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "customer", "ticket", "agent", "team", "created_at", "sent_at")
    list_filter = ("kind", "scale")
    raw_id_fields = ("customer", "ticket", "agent", "team")
    exclude = ("nonce",)


@admin.register(SurveyResponse)
class SurveyResponseAdmin(admin.ModelAdmin):
    list_display = ("id", "invitation", "score", "answered_at", "changed_at")
    raw_id_fields = ("invitation",)
    list_select_related = ("invitation",)
