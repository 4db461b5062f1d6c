"""Every write and business action of the tickets app.

Modules group the actions by subject; import them from here.
"""

from tickets.services.canned import send_canned_reply
from tickets.services.contact import submit_contact_form
from tickets.services.customers import (
    create_customer,
    create_purchases,
    create_tag,
    delete_customer,
    find_or_create_customer,
    organisation_for_email,
    update_customer,
)
from tickets.services.email import (
    IngestOutcome,
    IngestResult,
    accept_inbound_email,
    deliver_message,
    ingest_email,
    poll_mailbox,
    process_inbound_email,
    queue_automatic_reply,
    receive_raw_email,
    reprocess_inbound_email,
)
from tickets.services.imports import (
    ImportKind,
    fail_stalled_import_jobs,
    import_csv,
    register_import_kind,
    retry_import_job,
    run_import_job,
    start_import_job,
)
from tickets.services.privacy import erase_customer, export_customer_data
from tickets.services.routing import reroute_open_tickets
from tickets.services.rules import apply_routing, route_reply
from tickets.services.saved_views import delete_view, save_view
from tickets.services.sla import apply_sla_policy, flag_sla_breaches
from tickets.services.tickets import (
    add_internal_note,
    bulk_update_tickets,
    close_ticket,
    create_ticket,
    record_inbound_message,
    reply_to_ticket,
    route_ticket,
    update_ticket,
)

__all__ = [
    "ImportKind",
    "IngestOutcome",
    "IngestResult",
    "accept_inbound_email",
    "add_internal_note",
    "apply_routing",
    "apply_sla_policy",
    "bulk_update_tickets",
    "close_ticket",
    "create_customer",
    "create_purchases",
    "create_tag",
    "create_ticket",
    "delete_customer",
    "delete_view",
    "deliver_message",
    "erase_customer",
    "export_customer_data",
    "fail_stalled_import_jobs",
    "find_or_create_customer",
    "flag_sla_breaches",
    "import_csv",
    "ingest_email",
    "organisation_for_email",
    "poll_mailbox",
    "process_inbound_email",
    "queue_automatic_reply",
    "receive_raw_email",
    "record_inbound_message",
    "register_import_kind",
    "reply_to_ticket",
    "reprocess_inbound_email",
    "reroute_open_tickets",
    "retry_import_job",
    "route_reply",
    "route_ticket",
    "run_import_job",
    "save_view",
    "send_canned_reply",
    "start_import_job",
    "submit_contact_form",
    "update_customer",
    "update_ticket",
]
