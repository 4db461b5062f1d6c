import pytest
from django.urls import reverse

from tests import factories
from tests.tickets.views_support import (
    count_queries,
    only_test_extensions,
    segment_badges,
    warm,
)
from tickets import extensions
from tickets.models import Customer

__all__ = ["only_test_extensions"]

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("only_test_extensions")]

CUSTOMERS = reverse("tickets:customers")
ORGANISATIONS = reverse("tickets:organisations")
LIST_MAX_QUERIES = 6
PROFILE_MAX_QUERIES = 9
ORGANISATION_MAX_QUERIES = 8


@pytest.mark.parametrize(
    "url",
    [
        CUSTOMERS,
        reverse("tickets:customer", args=[1]),
        reverse("tickets:customer_edit", args=[1]),
        ORGANISATIONS,
        reverse("tickets:organisation", args=[1]),
    ],
)
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize(
    "name", ["tickets:customer", "tickets:customer_edit", "tickets:organisation"]
)
def test_missing_rows_are_404(agent_client, name):
    assert agent_client.get(reverse(name, args=[999_999])).status_code == 404


class TestCustomerList:
    def test_search_by_name_or_email(self, agent_client):
        factories.CustomerFactory(name="Ann Lee", email="ann@example.com")
        factories.CustomerFactory(name="Bob", email="bob@example.com")

        response = agent_client.get(CUSTOMERS, {"q": "ann@"})

        assert [c.name for c in response.context["page"].rows] == ["Ann Lee"]
        assert 'data-testid="customer-row"' in response.content.decode()

    def test_filter_by_tag(self, agent_client):
        tagged = factories.CustomerFactory()
        tagged.tags.set([factories.TagFactory(name="vip")])
        factories.CustomerFactory()

        response = agent_client.get(CUSTOMERS, {"tag": "vip"})

        assert [c.pk for c in response.context["page"].rows] == [tagged.pk]

    @pytest.mark.parametrize("params", [{"page": "-1"}, {"tag": "no-such-tag"}])
    def test_bad_filters_are_a_400(self, agent_client, params):
        assert agent_client.get(CUSTOMERS, params).status_code == 400

    def test_query_count_does_not_grow_with_rows(self, agent_client, django_assert_max_num_queries):
        extensions.register_badge_provider(segment_badges)
        tags = [factories.TagFactory(name=f"t{i}") for i in range(3)]
        org = factories.OrganisationFactory()

        def add(count):
            for _ in range(count):
                customer = factories.CustomerFactory(organisation=org)
                customer.tags.set(tags)
                factories.TicketFactory(customer=customer)

        add(5)
        few = count_queries(agent_client, CUSTOMERS)
        add(55)

        warm(agent_client, CUSTOMERS)
        with django_assert_max_num_queries(LIST_MAX_QUERIES):
            response = agent_client.get(CUSTOMERS)
        assert len(response.context["page"].rows) == 50
        assert count_queries(agent_client, CUSTOMERS) == few


class TestCustomerProfile:
    def test_shows_profile_tickets_purchases_and_badges(self, agent_client):
        extensions.register_badge_provider(segment_badges)
        customer = factories.CustomerFactory(custom_fields={"loyalty": "gold"})
        ticket = factories.TicketFactory(customer=customer, subject="Where is my parcel")
        factories.PurchaseFactory(customer=customer, product="Kettle")

        html = agent_client.get(reverse("tickets:customer", args=[customer.pk])).content.decode()

        assert ticket.subject in html and "Kettle" in html
        assert "loyalty" in html and "gold" in html and "Big spender" in html

    def test_query_count_does_not_grow_with_tickets_and_purchases(
        self, agent_client, agent, django_assert_max_num_queries
    ):
        extensions.register_badge_provider(segment_badges)

        def customer_with(count):
            customer = factories.CustomerFactory()
            customer.tags.set([factories.TagFactory(name="vip")])
            for _ in range(count):
                factories.TicketFactory(customer=customer, assignee=agent)
                factories.PurchaseFactory(customer=customer)
            return reverse("tickets:customer", args=[customer.pk])

        few = count_queries(agent_client, customer_with(2))
        url = customer_with(40)

        warm(agent_client, url)
        with django_assert_max_num_queries(PROFILE_MAX_QUERIES):
            agent_client.get(url)
        assert count_queries(agent_client, url) == few


class TestCustomerEdit:
    def _post(self, client, customer, **changes):
        data = {
            "name": customer.name,
            "email": customer.email,
            "country": customer.country,
            "plan": customer.plan,
            "custom_fields": "{}",
            "tags": "",
        }
        data.update(changes)
        return client.post(reverse("tickets:customer_edit", args=[customer.pk]), data)

    def test_form_shows_the_current_values(self, agent_client, customer):
        customer.tags.set([factories.TagFactory(name="vip")])

        response = agent_client.get(reverse("tickets:customer_edit", args=[customer.pk]))

        assert response.status_code == 200
        assert customer.email in response.content.decode()
        assert response.context["form"]["tags"].value() == "vip"

    def test_edit_fields_custom_fields_and_tags(self, agent_client, customer):
        response = self._post(
            agent_client,
            customer,
            name="Ann Other",
            city="Lyon",
            custom_fields='{"loyalty": "gold"}',
            tags="VIP, b2b",
        )

        customer.refresh_from_db()
        assert response.status_code == 302
        assert (customer.name, customer.city) == ("Ann Other", "Lyon")
        assert customer.custom_fields == {"loyalty": "gold"}
        assert sorted(t.name for t in customer.tags.all()) == ["b2b", "vip"]

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"email": "not-an-email"}, "email"),
            ({"custom_fields": "[1, 2]"}, "custom_fields"),
            ({"custom_fields": "{broken"}, "custom_fields"),
            ({"custom_fields": '{"x": 1e400}'}, "custom_fields"),
            ({"custom_fields": '{"x": NaN}'}, "custom_fields"),
            ({"custom_fields": '{"x": "a\\u0000"}'}, "custom_fields"),
            ({"custom_fields": '{"x": ' + "[" * 2000 + "]" * 2000 + "}"}, "custom_fields"),
            ({"age": "-3"}, "age"),
            ({"gender": "dragon"}, "gender"),
        ],
    )
    def test_bad_input_is_a_400_with_the_field_error(self, agent_client, customer, changes, field):
        response = self._post(agent_client, customer, **changes)

        assert response.status_code == 400
        assert f'data-testid="error-{field}"' in response.content.decode()

    def test_an_address_another_customer_has_is_refused(self, agent_client, customer):
        factories.CustomerFactory(email="taken@example.com")

        response = self._post(agent_client, customer, email="TAKEN@example.com")

        assert response.status_code == 400
        assert 'data-testid="error-email"' in response.content.decode()
        assert Customer.objects.get(pk=customer.pk).email != "TAKEN@example.com"


class TestOrganisations:
    def test_list_searches_and_links_to_the_page(self, agent_client):
        acme = factories.OrganisationFactory(name="Acme")
        factories.OrganisationFactory(name="Globex")

        response = agent_client.get(ORGANISATIONS, {"q": "acm"})

        assert [o.pk for o in response.context["page"].rows] == [acme.pk]
        assert reverse("tickets:organisation", args=[acme.pk]) in response.content.decode()

    def test_bad_page_is_a_400(self, agent_client):
        assert agent_client.get(ORGANISATIONS, {"page": "x"}).status_code == 400

    def test_page_shows_domains_customers_and_tickets(self, agent_client):
        acme = factories.OrganisationFactory(name="Acme")
        factories.OrganisationDomainFactory(organisation=acme, domain="acme.example")
        member = factories.CustomerFactory(organisation=acme, name="Wile E.")
        factories.TicketFactory(customer=member, subject="Rocket skates broke")

        html = agent_client.get(reverse("tickets:organisation", args=[acme.pk])).content.decode()

        assert "acme.example" in html and "Wile E." in html and "Rocket skates broke" in html

    def test_page_query_count_does_not_grow_with_members(
        self, agent_client, django_assert_max_num_queries
    ):
        extensions.register_badge_provider(segment_badges)

        def organisation_with(count):
            org = factories.OrganisationFactory()
            factories.OrganisationDomainFactory(organisation=org)
            for _ in range(count):
                customer = factories.CustomerFactory(organisation=org)
                customer.tags.set([factories.TagFactory(name="b2b")])
                factories.TicketFactory(customer=customer)
            return reverse("tickets:organisation", args=[org.pk])

        few = count_queries(agent_client, organisation_with(2))
        url = organisation_with(60)

        warm(agent_client, url)
        with django_assert_max_num_queries(ORGANISATION_MAX_QUERIES):
            agent_client.get(url)
        assert count_queries(agent_client, url) == few
