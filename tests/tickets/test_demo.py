from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Avg, Count, F, Max, Q, Sum

from helpdesk.models import User
from helpdesk.roles import Role
from tests.factories import CustomerFactory, TicketFactory
from tickets.demo import DemoDataExists, demo_customers, seed_demo_data
from tickets.models import Customer, Mailbox, Message, Purchase, Team, Ticket

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
PASSWORD = "s3cret-demo-pw"


@pytest.fixture
def seeded(db):
    return seed_demo_data(customers=120, password=PASSWORD, now=NOW)


def _customers(plan: str):
    """Each persona has its own plan, so the plan tells the persona."""
    return demo_customers().filter(plan=plan)


def test_staff_get_their_role_groups_teams_and_mailboxes(seeded):
    roles = {user.username: user.role for user in User.objects.all()}
    assert roles["admin"] == Role.ADMIN
    assert roles["lead"] == Role.LEAD
    assert roles["agent"] == Role.AGENT
    assert sorted(name for name, role in roles.items() if role == Role.AGENT) == [
        "agent", "jonas", "kenji", "maria", "priya", "sofia", "tom",
    ]  # fmt: skip
    teams = Team.objects.annotate(members_count=Count("members")).select_related("lead")
    assert {team.name for team in teams} == {"Tier 1", "Tier 2", "Billing"}
    assert all(team.lead.username == "lead" and team.members_count >= 2 for team in teams)
    assert set(Mailbox.objects.values_list("address", "team__name")) == {
        ("support@demo-helpdesk.example", "Tier 1"),
        ("billing@demo-helpdesk.example", "Billing"),
    }


@pytest.mark.parametrize("username", ["admin", "lead", "agent", "maria"])
def test_staff_log_in_with_the_given_password(seeded, client, username):
    assert client.login(username=username, password=PASSWORD)
    assert not client.login(username=username, password="demo-password-123")


def test_summary_counts_what_was_written(seeded):
    assert seeded.customers == Customer.objects.count() == 120
    assert seeded.tickets == Ticket.objects.count() == 600
    assert seeded.messages == Message.objects.count()
    assert seeded.purchases == Purchase.objects.count()
    assert seeded.purchases > 5 * seeded.customers


def test_every_ticket_has_a_routed_searchable_thread_that_starts_inbound(seeded):
    tickets = Ticket.objects.annotate(message_count=Count("messages"))
    assert not tickets.filter(routed_at__isnull=True).exists()
    assert not tickets.filter(message_count=0).exists()
    for ticket in Ticket.objects.prefetch_related("messages"):
        thread = list(ticket.messages.all())
        assert thread[0].kind == Message.Kind.INBOUND
        assert thread[0].created_at == ticket.created_at
        assert ticket.subject in ticket.search_document
        assert thread[0].body_text in ticket.search_document
        assert ticket.updated_at >= thread[-1].created_at


def test_timestamps_follow_the_status(seeded):
    new = Ticket.objects.filter(status=Ticket.Status.NEW)
    assert not new.filter(Q(first_response_at__isnull=False) | Q(assignee__isnull=False)).exists()
    done = Ticket.objects.filter(status__in=[Ticket.Status.SOLVED, Ticket.Status.CLOSED])
    assert done.count() > Ticket.objects.count() / 2
    assert not done.filter(
        Q(solved_at__isnull=True) | Q(first_response_at__isnull=True) | Q(assignee__isnull=True)
    ).exists()
    assert not done.filter(solved_at__lt=F("first_response_at")).exists()
    assert not Ticket.objects.filter(first_response_at__lt=F("created_at")).exists()
    closed = Ticket.objects.filter(status=Ticket.Status.CLOSED)
    assert closed.exists()
    assert not closed.filter(Q(closed_at__isnull=True) | Q(closed_at__lt=F("solved_at"))).exists()
    assert not Ticket.objects.filter(updated_at__gt=NOW + timedelta(days=7)).exists()


def test_old_tickets_are_finished_and_recent_ones_are_still_worked(seeded):
    old = Ticket.objects.filter(created_at__lt=NOW - timedelta(days=30))
    assert not old.filter(status__in=Ticket.ACTIVE_STATUSES).exists()
    assert Ticket.objects.filter(status__in=Ticket.ACTIVE_STATUSES).exists()


def test_replies_are_sent_so_the_sweeper_never_mails_demo_customers(seeded):
    outbound = Message.objects.filter(kind=Message.Kind.OUTBOUND)
    assert outbound.exists()
    assert set(outbound.values_list("delivery_status", flat=True)) == {Message.Delivery.SENT}
    assert Message.objects.filter(kind=Message.Kind.NOTE).exists()


def test_big_spenders_spend_far_more_than_bargain_one_timers(seeded):
    def mean_spend(plan):
        spend = _customers(plan).annotate(spend=Sum("purchases__amount"))
        return spend.aggregate(mean=Avg("spend"))["mean"]

    assert mean_spend("premium") > 50 * mean_spend("free")
    one_timers = _customers("free").annotate(orders=Count("purchases"))
    assert set(one_timers.values_list("orders", flat=True)) == {1}


def test_chat_power_users_open_many_tickets_mostly_by_chat(seeded):
    power = Ticket.objects.filter(customer__in=_customers("pro"))
    per_power_user = power.count() / _customers("pro").count()
    per_big_spender = (
        Ticket.objects.filter(customer__in=_customers("premium")).count()
        / _customers("premium").count()
    )
    assert per_power_user > 3 * per_big_spender
    assert power.filter(channel=Ticket.Channel.CHAT).count() > power.count() / 2
    big_spender_channels = Ticket.objects.filter(customer__in=_customers("premium"))
    assert not big_spender_channels.filter(channel=Ticket.Channel.CHAT).exists()


def test_dormant_customers_have_been_quiet_for_over_a_year(seeded):
    dormant = _customers("basic")
    year_ago = NOW - timedelta(days=365)
    assert dormant.exists()
    assert not Purchase.objects.filter(customer__in=dormant, ordered_at__gte=year_ago).exists()
    assert not Ticket.objects.filter(customer__in=dormant, created_at__gte=year_ago).exists()
    assert all(c.signup_date < (NOW - timedelta(days=3 * 365)).date() for c in dormant)


def test_b2b_accounts_belong_to_organisations_by_email_domain(seeded):
    b2b = (
        _customers("business")
        .select_related("organisation")
        .prefetch_related("organisation__domains")
    )
    assert b2b.exists()
    for customer in b2b:
        domains = {d.domain for d in customer.organisation.domains.all()}
        assert customer.email.split("@")[1] in domains
        assert customer.organisation.industry and customer.organisation.size
    assert not _customers("free").filter(organisation__isnull=False).exists()


def test_new_signups_joined_recently(seeded):
    assert all(c.signup_date >= (NOW - timedelta(days=46)).date() for c in _customers("trial"))


def test_customer_profiles_are_filled_in(seeded):
    for customer in demo_customers().prefetch_related("tags"):
        assert customer.name and customer.country and customer.city and customer.timezone
        assert customer.language and customer.plan and customer.signup_date
        assert customer.external_id.startswith("demo-")
        assert {"loyalty_tier", "marketing_opt_in"} <= set(customer.custom_fields)
    vip_tags = {t.name for c in _customers("premium") for t in c.tags.all()}
    assert vip_tags == {"vip"}


def test_same_seed_gives_the_same_data(db):
    def snapshot():
        return list(
            Ticket.objects.order_by("created_at").values_list(
                "subject", "status", "channel", "customer__email"
            )
        )

    seed_demo_data(customers=30, password=PASSWORD, now=NOW)
    first = snapshot()
    seed_demo_data(customers=30, password=PASSWORD, now=NOW, reset=True)
    assert snapshot() == first


def test_seeding_twice_without_reset_fails_and_changes_nothing(seeded):
    with pytest.raises(DemoDataExists, match="--reset"):
        seed_demo_data(customers=10, password=PASSWORD, now=NOW)
    assert Customer.objects.count() == 120


def test_reset_replaces_only_the_demo_data(seeded):
    # given
    own_ticket = TicketFactory(customer=CustomerFactory(email="real@customer.test"))

    # when
    summary = seed_demo_data(customers=40, password="other-pw", tickets=90, reset=True, now=NOW)

    # then
    assert demo_customers().count() == 40 == summary.customers
    assert Ticket.objects.exclude(pk=own_ticket.pk).count() == 90
    assert Ticket.objects.filter(pk=own_ticket.pk).exists()
    assert Team.objects.count() == 3
    assert User.objects.get(username="agent").check_password("other-pw")


def test_new_ids_continue_after_the_demo_ids(seeded):
    ticket = TicketFactory(customer=CustomerFactory())
    assert ticket.pk > Ticket.objects.exclude(pk=ticket.pk).aggregate(top=Max("pk"))["top"]


def test_command_seeds_and_prints_the_logins(db):
    out = StringIO()
    call_command("seed_demo", "--customers", "20", "--password", "pw-123456", stdout=out)
    assert demo_customers().count() == 20
    assert Ticket.objects.count() == 100
    assert "agent / pw-123456" in out.getvalue()
    assert "http://" in out.getvalue()


def test_command_run_twice_asks_for_reset(db):
    call_command("seed_demo", "--customers", "5", stdout=StringIO())
    with pytest.raises(CommandError, match="--reset"):
        call_command("seed_demo", "--customers", "5", stdout=StringIO())
    call_command("seed_demo", "--customers", "7", "--reset", stdout=StringIO())
    assert demo_customers().count() == 7


@pytest.mark.parametrize(
    "args", [["--customers", "0"], ["--customers", "many"], ["--tickets", "-1"], ["--password", ""]]
)
def test_command_rejects_bad_arguments(db, args):
    with pytest.raises(CommandError):
        call_command("seed_demo", *args, stdout=StringIO())
    assert not User.objects.exists()
