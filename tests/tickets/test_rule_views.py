"""The rule editor pages: leads only, create/edit with rows, clear errors, reorder, toggle,
dry runs, and the firing on the ticket timeline."""

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from helpdesk.models import AuditLog
from tests.factories import CustomerFactory, MailboxFactory, TeamFactory, TicketFactory
from tests.tickets.views_support import only_test_extensions
from tickets import extensions
from tickets.extensions import CustomerFilter, register_customer_filter
from tickets.models import Customer, RoutingRule, RuleFiring, SLAPolicy
from tickets.selectors import ticket_history
from tickets.services import route_ticket
from tickets.services import rules as rule_services
from tickets.services.canned import save_canned_reply

__all__ = ["only_test_extensions"]

RULE_LIST_QUERIES = 8


def rule_post(**overrides) -> dict:
    data = {
        "name": "VIP to Tier 2",
        "match": "all",
        "events": ["ticket_created"],
        "active": "on",
        "condition_field": ["subject"],
        "condition_operator": ["contains"],
        "condition_value": ["refund"],
        "action_action": ["assign_team", "set_priority"],
        "action_value": ["tier-2", "high"],
        "intent": "save",
    }
    return {**data, **overrides}


def saved_rule(name="VIP to Tier 2", **fields) -> RoutingRule:
    return rule_services.create_rule(
        actor=None,
        name=name,
        match="all",
        events=["ticket_created"],
        always_run=False,
        conditions=fields.get("conditions", []),
        actions=fields.get("actions", [{"action": "set_priority", "value": "high"}]),
    )


def test_saving_from_the_htmx_editor_sends_the_browser_to_the_rule_list(lead_client):
    TeamFactory(name="Tier 2", slug="tier-2")

    response = lead_client.post(reverse("tickets:rule_create"), rule_post(), HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("tickets:rules")
    assert RoutingRule.objects.filter(name="VIP to Tier 2").exists()


def test_team_actions_offer_the_teams_by_name(lead_client):
    TeamFactory(name="Tier 2", slug="tier-2")

    response = lead_client.get(reverse("tickets:rule_create"))

    assert response.context["actions"][0]["suggestions"] == [("tier-2", "Tier 2")]
    assert b'<option value="tier-2">Tier 2</option>' in response.content


@pytest.mark.parametrize(
    "url_name", ["tickets:rules", "tickets:rule_create", "tickets:rule_dry_run"]
)
def test_agents_cannot_open_the_rule_editor(agent_client, url_name):
    assert agent_client.get(reverse(url_name)).status_code == 403


def test_lead_creates_a_rule_from_the_form_and_it_is_audited(lead_client, lead):
    TeamFactory(name="Tier 2", slug="tier-2")

    response = lead_client.post(reverse("tickets:rule_create"), rule_post())

    assert response.status_code == 302
    rule = RoutingRule.objects.get()
    assert rule.conditions == [{"field": "subject", "operator": "contains", "value": "refund"}]
    assert rule.actions == [
        {"action": "assign_team", "value": "tier-2"},
        {"action": "set_priority", "value": "high"},
    ]
    entry = AuditLog.objects.get(target_type="routingrule", target_id=rule.pk)
    assert (entry.action, entry.actor) == ("rule_created", lead)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"condition_field": ["colour"]}, "unknown field &#x27;colour&#x27;"),
        ({"condition_operator": ["regex"], "condition_value": ["(oops"]}, "bad regular expression"),
        ({"action_value": ["tier-9", "high"]}, "&#x27;tier-9&#x27; is not one of"),
        ({"action_value": ["tier-2", "extreme"]}, "&#x27;extreme&#x27; is not one of"),
    ],
)
def test_a_bad_rule_is_shown_again_with_a_clear_message(lead_client, overrides, message):
    TeamFactory(slug="tier-2")

    response = lead_client.post(reverse("tickets:rule_create"), rule_post(**overrides))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not RoutingRule.objects.exists()


def test_adding_and_removing_rows_rerenders_without_saving(lead_client):
    url = reverse("tickets:rule_create")

    added = lead_client.post(url, rule_post(intent="", add_condition="1"))
    removed = lead_client.post(url, rule_post(intent="", remove_action="0"))

    assert added.status_code == removed.status_code == 200
    assert added.content.decode().count('data-testid="condition-row"') == 2
    assert removed.content.decode().count('data-testid="action-row"') == 1
    assert not RoutingRule.objects.exists()


def test_editing_a_rule_keeps_its_rows_and_saves_changes(lead_client):
    TeamFactory(slug="tier-2")
    rule = saved_rule(
        conditions=[{"field": "customer.country", "operator": "in", "value": "DE, AT"}]
    )
    url = reverse("tickets:rule_edit", args=[rule.pk])

    page = lead_client.get(url)
    lead_client.post(url, rule_post(name="Renamed"))

    assert 'value="DE, AT"' in page.content.decode()
    rule.refresh_from_db()
    assert rule.name == "Renamed"
    assert AuditLog.objects.filter(target_id=rule.pk, action="rule_updated").exists()


def test_reorder_and_toggle_through_htmx(lead_client):
    first, second = saved_rule("first"), saved_rule("second")

    moved = lead_client.post(
        reverse("tickets:rule_move", args=[second.pk]), {"direction": "up"}, HTTP_HX_REQUEST="true"
    )
    toggled = lead_client.post(
        reverse("tickets:rule_toggle", args=[first.pk]), HTTP_HX_REQUEST="true"
    )
    bad = lead_client.post(reverse("tickets:rule_move", args=[first.pk]), {"direction": "sideways"})

    assert moved.status_code == toggled.status_code == 200
    assert 'id="rule-table"' in toggled.content.decode()
    assert list(RoutingRule.objects.values_list("name", "active")) == [
        ("second", True),
        ("first", False),
    ]
    assert bad.status_code == 400


def test_dry_run_of_the_form_shows_matches_and_changes_without_saving(lead_client):
    TeamFactory(name="Tier 2", slug="tier-2")
    refund = TicketFactory(subject="Refund please")
    TicketFactory(subject="Login broken")

    response = lead_client.post(reverse("tickets:rule_create"), rule_post(intent="dry_run"))

    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('data-testid="dry-run-row"') == 1
    assert f'data-ticket="{refund.pk}"' in page
    assert "Tier 2" in page
    assert not RoutingRule.objects.exists()
    refund.refresh_from_db()
    assert refund.team is None


def test_dry_run_page_of_the_active_rules_has_constant_queries(
    lead_client, django_assert_max_num_queries
):
    saved_rule(conditions=[{"field": "subject", "operator": "contains", "value": "a"}])
    for _ in range(30):
        TicketFactory(customer=CustomerFactory(), subject="a ticket")

    with django_assert_max_num_queries(15):
        response = lead_client.get(reverse("tickets:rule_dry_run"))

    assert response.content.decode().count('data-testid="dry-run-row"') == 30
    assert not RuleFiring.objects.exists()


def test_the_firing_shows_on_the_ticket_timeline(db):
    saved_rule()
    ticket = TicketFactory(routed_at=None)
    route_ticket(ticket_id=ticket.pk)

    # the partial the ticket page includes with the page's own history selector
    timeline = render_to_string(
        "tickets/partials/ticket_timeline.html", {"history": ticket_history(ticket=ticket)}
    )

    routed, changed = timeline.index("routed by 'VIP to Tier 2'"), timeline.index("normal → high")
    assert routed < changed


class TestRuleListInWords:
    """The list shows what a rule does with the names a lead knows, never slugs or ids."""

    @pytest.fixture
    def named_things(self, lead, only_test_extensions):
        register_customer_filter(
            CustomerFilter(
                param="segment",
                label="Segment",
                choices=lambda: [("plans/vip", "Plans: VIP")],
                customer_ids=lambda value: Customer.objects.none(),
            )
        )
        return {
            "team": TeamFactory(name="Tier 2", slug="tier-2"),
            "mailbox": MailboxFactory(slug="billing", address="billing@helpdesk.example.com"),
            "policy": SLAPolicy.objects.create(name="Gold"),
            "reply": save_canned_reply(
                canned_reply=None,
                title="Refund policy",
                body="Refunds take five days.",
                folder="",
                owner=None,
                segment_slugs=[],
                actor=lead,
            ),
        }

    def full_rule(self, name: str, things: dict, *, match: str = "all") -> RoutingRule:
        return rule_services.create_rule(
            actor=None,
            name=name,
            match=match,
            events=["ticket_created"],
            always_run=False,
            conditions=[
                {"field": "segment", "operator": "in", "value": "plans/vip, vip"},
                {"field": "mailbox", "operator": "equals", "value": "billing"},
                {"field": "priority", "operator": "not_equals", "value": "low"},
                {"field": "subject", "operator": "contains", "value": "refund"},
            ],
            actions=[
                {"action": "assign_team", "value": "tier-2"},
                {"action": "assign_round_robin", "value": "tier-2"},
                {"action": "set_priority", "value": "high"},
                {"action": "add_tags", "value": "vip, refund"},
                {"action": "set_sla_policy", "value": str(things["policy"].pk)},
                {"action": "send_canned_reply", "value": str(things["reply"].pk)},
                {"action": "stop_processing", "value": None},
            ],
        )

    def test_conditions_and_actions_read_with_names(self, lead_client, named_things):
        self.full_rule("Refunds", named_things, match="any")

        response = lead_client.get(reverse("tickets:rules"))

        row = response.context["rows"][0]
        assert [phrase.text for phrase in row.conditions] == [
            "Customer segment is one of Plans: VIP, Plans: VIP",
            "Mailbox is billing@helpdesk.example.com",
            "Priority is not Low",
            "Subject contains 'refund'",
        ]
        assert [phrase.text for phrase in row.actions] == [
            "Assign to team Tier 2",
            "Assign round-robin to an agent in team Tier 2",
            "Set priority High",
            "Add tags refund, vip",
            "Apply SLA policy Gold",
            "Reply with canned reply 'Refund policy'",
            "Stop processing further rules",
        ]
        page = response.content.decode()
        assert "Reply with canned reply &#x27;Refund policy&#x27;" in page
        assert "<em>or</em> Mailbox is" in page
        assert 'data-testid="broken-ref"' not in page

    def test_a_deleted_team_policy_reply_mailbox_or_segment_is_marked_not_fatal(
        self, lead_client, named_things, monkeypatch
    ):
        rule = self.full_rule("Refunds", named_things)
        for thing in named_things.values():
            thing.delete()
        monkeypatch.setattr(extensions, "_customer_filters", [])

        response = lead_client.get(reverse("tickets:rules"))

        assert response.status_code == 200
        row = response.context["rows"][0]
        assert [phrase.text for phrase in row.actions if phrase.broken] == [
            "Assign to team tier-2 (deleted)",
            "Assign round-robin to an agent in team tier-2 (deleted)",
            f"Apply SLA policy #{rule.actions[4]['value']} (deleted)",
            f"Reply with canned reply #{rule.actions[5]['value']} (deleted)",
        ]
        assert [phrase.text for phrase in row.conditions if phrase.broken] == [
            "Customer segment is one of plans/vip (deleted), vip (deleted)",
            "Mailbox is billing (deleted)",
        ]
        assert response.content.decode().count('data-testid="broken-ref"') == 6

    @pytest.mark.parametrize("rules", [1, 30])
    def test_names_cost_one_query_per_kind_of_thing_not_per_rule(
        self, lead_client, named_things, django_assert_max_num_queries, rules
    ):
        for number in range(rules):
            self.full_rule(f"rule {number}", named_things)

        # session, user, roles, rules, then one each: teams, mailboxes, policies, replies
        with django_assert_max_num_queries(RULE_LIST_QUERIES):
            response = lead_client.get(reverse("tickets:rules"))

        assert len(response.context["rows"]) == rules
        assert not any(phrase.broken for row in response.context["rows"] for phrase in row.actions)
