"""REST clients for tests, authenticated by a DRF token as integrations call the API (the
``api`` fixture is registered in tests/conftest.py)."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def token_client(token: Token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def api(agent) -> APIClient:
    """A REST client with a token of the ``agent`` fixture."""
    return token_client(Token.objects.create(user=agent))
