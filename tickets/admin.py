from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from tickets import services
from tickets.models import ChannelTeam, InboundEmail, Mailbox, Team


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "lead", "private")
    list_filter = ("private",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    fields = ("name", "slug", "lead", "members", "private")
    filter_horizontal = ("members",)
    list_select_related = ("lead",)


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    list_display = ("slug", "address", "team", "active", "imap_host", "imap_user", "imap_folder")
    list_filter = ("active", "team")
    search_fields = ("slug", "address")
    fieldsets = (
        (None, {"fields": ("slug", "address", "team", "active")}),
        (
            "IMAP polling",
            {
                "fields": (
                    "imap_host",
                    "imap_port",
                    "imap_use_tls",
                    "imap_user",
                    "imap_password_env",
                    "imap_folder",
                ),
                "description": "The password is read from the environment variable named here.",
            },
        ),
        ("Push endpoint", {"fields": ("inbound_token",)}),
    )


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):
    list_display = ("received_at", "mailbox", "message_id_header", "state", "error")
    list_filter = ("state", "mailbox")
    search_fields = ("message_id_header", "error")
    readonly_fields = ("mailbox", "message_id_header", "state", "error", "message", "raw_text")
    exclude = ("raw",)
    actions = ("reprocess",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("mailbox")

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="Raw message (first 20,000 characters)")
    def raw_text(self, inbound: InboundEmail) -> str:
        return bytes(inbound.raw)[:20_000].decode("utf-8", errors="replace")

    @admin.action(description="Re-process the selected messages")
    def reprocess(self, request, queryset):
        for inbound in queryset:
            try:
                result = services.reprocess_inbound_email(inbound=inbound, actor=request.user)
            except ValidationError as error:
                self.message_user(request, f"{inbound}: {error.messages[0]}", messages.WARNING)
            else:
                self.message_user(request, f"{inbound}: {result.outcome.value}")


@admin.register(ChannelTeam)
class ChannelTeamAdmin(admin.ModelAdmin):
    list_display = ["channel", "team"]
