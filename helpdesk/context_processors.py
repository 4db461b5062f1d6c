from django.contrib.auth.models import AnonymousUser

from helpdesk.roles import Role, has_role

# The navigation section of each staff page, by "namespace:url_name". Pages of the segments app
# not listed here belong to Segments; any other page highlights nothing.
_PAGES_OF_SECTION = {
    "inbox": ("tickets:inbox", "tickets:ticket"),
    "customers": (
        "tickets:customers",
        "tickets:customer",
        "tickets:customer_edit",
        "tickets:customer_privacy",
    ),
    "organisations": ("tickets:organisations", "tickets:organisation"),
    "kb": ("tickets:articles", "tickets:article_new", "tickets:article_edit"),
    "canned": ("tickets:canned_replies", "tickets:canned_new", "tickets:canned_edit"),
    "rules": ("tickets:rules", "tickets:rule_create", "tickets:rule_edit"),
    "sla": (
        "tickets:sla",
        "tickets:sla_policy_new",
        "tickets:sla_policy_edit",
        "tickets:sla_calendar_new",
        "tickets:sla_calendar_edit",
    ),
    "imports": ("tickets:import_upload", "tickets:import_job"),
    "email": ("tickets:failed_emails",),
    "reports": ("segments:report",),
    "outreach": ("segments:campaigns", "segments:campaign_new", "segments:campaign"),
    "csat": ("surveys:csat_overview",),
}
_SECTION_OF_PAGE = {page: section for section, pages in _PAGES_OF_SECTION.items() for page in pages}
# Sections reached through the "Manage" menu rather than a top-level link.
MANAGE_SECTIONS = frozenset(
    {"canned", "rules", "sla", "imports", "email", "reports", "outreach", "csat"}
)


def role(request) -> dict:
    # A request refused before AuthenticationMiddleware ran (a bad Host header: the 400 page)
    # has no user.
    user = getattr(request, "user", AnonymousUser())
    return {
        "is_lead": has_role(user, Role.LEAD),
        "is_admin": has_role(user, Role.ADMIN),
    }


def navigation(request) -> dict:
    """``nav_section``: the section the page belongs to; ``nav_in_manage``: it is in the menu."""
    section = nav_section(request.resolver_match)
    return {"nav_section": section, "nav_in_manage": section in MANAGE_SECTIONS}


def nav_section(match) -> str:
    if match is None:
        return ""
    default = "segments" if match.namespace == "segments" else ""
    return _SECTION_OF_PAGE.get(match.view_name, default)
