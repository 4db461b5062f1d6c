import pytest
from django.core.cache import cache

from helpdesk import snapshots
from tests import factories
from tests.api_clients import api  # noqa: F401  (a fixture for every test folder)
from tests.migration_data import restore_migration_data
from tests.smtp import smtp_server  # noqa: F401  (a fixture for every test folder)


@pytest.fixture(autouse=True)
def _migration_data_in_committed_tests(request):
    """Transactional tests get the rows data migrations create, which an earlier one's
    end-of-test flush removed (autouse, so it runs before the test's own data fixtures)."""
    if {"transactional_db", "live_server"} & set(request.fixturenames):
        request.getfixturevalue("transactional_db")
        restore_migration_data()


@pytest.fixture(autouse=True)
def _no_snapshot_from_an_earlier_test():
    """A rolled-back or flushed test sends no signal, so its rows could outlive it in a
    process's snapshots (helpdesk.snapshots)."""
    snapshots.forget_all()


@pytest.fixture
def empty_cache():
    """Each test starts and ends with an empty cache (rate limits, lockouts, live progress)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def agent(db):
    return factories.AgentFactory(username="agent")


@pytest.fixture
def lead(db):
    return factories.LeadFactory(username="lead")


@pytest.fixture
def admin_user(db):
    return factories.AdminFactory(username="admin")


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def lead_client(client, lead):
    client.force_login(lead)
    return client


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def customer(db):
    return factories.CustomerFactory()


@pytest.fixture
def ticket(db, customer):
    ticket = factories.TicketFactory(customer=customer)
    factories.MessageFactory(ticket=ticket)
    return ticket
