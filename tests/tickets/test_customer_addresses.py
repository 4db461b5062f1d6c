"""Customers are found by address in any case, through the unique LOWER(email) index."""

import pytest
from django.db import connection

from tests import factories
from tickets.models import Customer
from tickets.services.customers import find_or_create_customer

pytestmark = pytest.mark.django_db


def test_mail_from_a_known_address_in_another_case_finds_that_customer():
    known = factories.CustomerFactory(email="Ann.Lee@Example.com")

    customer, created = find_or_create_customer(email="  ann.lee@EXAMPLE.COM ")

    assert (customer, created) == (known, False)
    assert Customer.objects.count() == 1


def test_an_unknown_address_creates_one_customer_with_the_address_as_written():
    customer, created = find_or_create_customer(email="New.Person@example.com", name=" New ")

    assert created
    assert (customer.email, customer.name) == ("New.Person@example.com", "New")


def test_with_address_matches_any_case_and_nothing_else():
    ann = factories.CustomerFactory(email="ann@example.com")
    factories.CustomerFactory(email="anne@example.com")

    assert list(Customer.objects.with_address("ANN@example.COM")) == [ann]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the index serves PostgreSQL")
def test_the_address_lookup_is_served_by_the_unique_index():
    with connection.cursor() as cursor:
        # A near-empty test table would otherwise be scanned whatever the indexes.
        cursor.execute("SET LOCAL enable_seqscan = off")

    plan = Customer.objects.with_address("ann@example.com").explain()

    assert "customer_email_ci_unique" in plan
