from django.urls import path

from tickets.views import contact, customers, email, imports, inbox, organisations, ticket
from tickets.views import privacy as privacy_views

app_name = "tickets"

urlpatterns: list = [
    path("imports/", imports.import_upload, name="import_upload"),
    path("imports/<int:job_id>/", imports.import_job, name="import_job"),
    path("imports/<int:job_id>/progress/", imports.import_job_progress, name="import_job_progress"),
    path("inbound/email/<slug:slug>/", email.inbound_email, name="inbound_email"),
    path("admin-tools/email/unprocessed/", email.failed_emails, name="failed_emails"),
    path(
        "admin-tools/email/<int:inbound_id>/reprocess/",
        email.reprocess_email,
        name="reprocess_email",
    ),
    path("contact/", contact.contact, name="contact"),
    path("contact/sent/", contact.contact_sent, name="contact_sent"),
    path("", inbox.inbox, name="inbox"),
    path("inbox/bulk/", inbox.bulk_action, name="bulk"),
    path("inbox/views/", inbox.save_view, name="save_view"),
    path("inbox/views/<int:view_id>/delete/", inbox.delete_view, name="delete_view"),
    path("tickets/<int:ticket_id>/", ticket.ticket_detail, name="ticket"),
    path("tickets/<int:ticket_id>/properties/", ticket.update_properties, name="properties"),
    path("tickets/<int:ticket_id>/reply/", ticket.reply, name="reply"),
    path("tickets/<int:ticket_id>/note/", ticket.add_note, name="note"),
    path("tickets/<int:ticket_id>/viewers/", ticket.viewers, name="viewers"),
    path("tickets/<int:ticket_id>/viewers/leave/", ticket.stop_viewing, name="stop_viewing"),
    path("customers/", customers.customer_list, name="customers"),
    path("customers/<int:customer_id>/", customers.customer_detail, name="customer"),
    path("customers/<int:customer_id>/edit/", customers.customer_edit, name="customer_edit"),
    path(
        "customers/<int:customer_id>/privacy/",
        privacy_views.customer_privacy,
        name="customer_privacy",
    ),
    path(
        "customers/<int:customer_id>/privacy/export/",
        privacy_views.customer_export,
        name="customer_export",
    ),
    path(
        "customers/<int:customer_id>/privacy/erase/",
        privacy_views.customer_erase,
        name="customer_erase",
    ),
    path("organisations/", organisations.organisation_list, name="organisations"),
    path(
        "organisations/<int:organisation_id>/",
        organisations.organisation_detail,
        name="organisation",
    ),
]
