"""Every write and business action of the tickets app.

Modules group the actions by subject; import them from here.
"""

from tickets.services.customers import (
    create_customer,
    create_purchases,
    create_tag,
    delete_customer,
    find_or_create_customer,
    organisation_for_email,
    update_customer,
)
from tickets.services.imports import (
    ImportKind,
    import_csv,
    register_import_kind,
    run_import_job,
    start_import_job,
)
from tickets.services.saved_views import delete_view, save_view
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
    "add_internal_note",
    "bulk_update_tickets",
    "close_ticket",
    "create_customer",
    "create_purchases",
    "create_tag",
    "create_ticket",
    "delete_customer",
    "delete_view",
    "find_or_create_customer",
    "import_csv",
    "organisation_for_email",
    "record_inbound_message",
    "register_import_kind",
    "reply_to_ticket",
    "route_ticket",
    "run_import_job",
    "save_view",
    "start_import_job",
    "update_customer",
    "update_ticket",
]
