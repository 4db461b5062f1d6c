"""Extension points for the apps built on top of tickets.

``tickets`` never imports ``surveys`` or ``segments``; those apps register providers here in
their ``AppConfig.ready()`` and the ticket, inbox and customer pages ask the providers for data.
Each provider is called once per page with every id on it, so pages keep a constant query count.
Panels are given the viewing user as well: a panel that shows tickets' data (a survey answer, a
ticket number) leaves out tickets the user may not see, with ``tickets.selectors``
(``without_hidden_tickets``), which adds no query; tests/helpdesk/test_panel_visibility.py
holds every registered panel to that. Badges and customer filters carry customer
data only, so they take no user.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.db.models import QuerySet


@dataclass(frozen=True)
class Badge:
    """A label shown next to a customer, for example their segment in one segmentation."""

    group: str  # what the badge belongs to, e.g. the segmentation's name
    group_slug: str
    label: str
    slug: str
    colour: str = "#64748b"
    url: str = ""
    traits: Sequence[str] = field(default_factory=tuple)
    notes: str = ""
    team_id: int | None = None  # the team the segment's tickets go to by default


@dataclass(frozen=True)
class Panel:
    """A box in a sidebar, rendered with ``template`` and ``context``."""

    title: str
    template: str
    context: Mapping = field(default_factory=dict)
    order: int = 100


@dataclass(frozen=True)
class CustomerFilter:
    """A filter of the inbox and customer list contributed by another app."""

    param: str
    label: str
    choices: Callable[[], Sequence[tuple[str, str]]]
    customer_ids: Callable[[str], QuerySet]


BadgeProvider = Callable[[Sequence[int]], Mapping[int, Sequence[Badge]]]
CustomerPanelProvider = Callable[[object, object], Panel | None]  # (customer, viewing user)
TicketPanelProvider = Callable[[object, object], Panel | None]  # (ticket, viewing user)
CustomerExporter = Callable[[object], Mapping]  # customer -> sections of the privacy export
CustomerEraser = Callable[[object], Mapping]  # customer -> counts of what it erased

_badge_providers: list[BadgeProvider] = []
_customer_panel_providers: list[CustomerPanelProvider] = []
_ticket_panel_providers: list[TicketPanelProvider] = []
_customer_filters: list[CustomerFilter] = []
_customer_exporters: list[CustomerExporter] = []
_customer_erasers: list[CustomerEraser] = []


def _register(registry: list, item) -> None:
    if item not in registry:
        registry.append(item)


def register_badge_provider(provider: BadgeProvider) -> None:
    _register(_badge_providers, provider)


def register_customer_panel(provider: CustomerPanelProvider) -> None:
    _register(_customer_panel_providers, provider)


def register_ticket_panel(provider: TicketPanelProvider) -> None:
    _register(_ticket_panel_providers, provider)


def register_customer_filter(customer_filter: CustomerFilter) -> None:
    _register(_customer_filters, customer_filter)


def register_customer_export(exporter: CustomerExporter) -> None:
    _register(_customer_exporters, exporter)


def register_customer_eraser(eraser: CustomerEraser) -> None:
    _register(_customer_erasers, eraser)


def customer_export_sections(customer) -> dict:
    sections: dict = {}
    for exporter in _customer_exporters:
        sections.update(exporter(customer))
    return sections


def erase_customer_elsewhere(customer) -> dict:
    counts: dict = {}
    for eraser in _customer_erasers:
        counts.update(eraser(customer))
    return counts


def badges_for_customers(customer_ids: Iterable[int]) -> dict[int, list[Badge]]:
    ids = sorted(set(customer_ids))
    badges: dict[int, list[Badge]] = {pk: [] for pk in ids}
    if not ids:
        return badges
    for provider in _badge_providers:
        for customer_id, found in provider(ids).items():
            badges.setdefault(customer_id, []).extend(found)
    return badges


def customer_badges(customer) -> list[Badge]:
    """``customer``'s badges, asked of the providers once per customer object: the ticket and
    customer pages show them in the customer card and in a panel."""
    if not hasattr(customer, "_badges"):
        customer._badges = badges_for_customers([customer.pk])[customer.pk]
    return customer._badges


def customer_panels(customer, user) -> list[Panel]:
    return _panels(_customer_panel_providers, customer, user)


def ticket_panels(ticket, user) -> list[Panel]:
    """Panels of a ticket ``user`` may see (the caller checked)."""
    return _panels(_ticket_panel_providers, ticket, user)


def customer_filters() -> list[CustomerFilter]:
    return list(_customer_filters)


def _panels(providers, obj, user) -> list[Panel]:
    panels = [panel for provider in providers if (panel := provider(obj, user)) is not None]
    return sorted(panels, key=lambda panel: panel.order)
