"""API token scopes: a read-only token may use safe methods only, whatever its user's role."""

from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request

from helpdesk.models import ScopedToken, TokenScope, User


class ScopedTokenAuthentication(TokenAuthentication):
    """Token authentication that loads the token's scope with it (no query per check)."""

    model = ScopedToken


def token_allows(request: Request) -> bool:
    if request.method in SAFE_METHODS or not isinstance(request.auth, Token):
        return True
    scope = getattr(request.auth, "scope", None)
    return scope is None or scope.access == TokenScope.Access.WRITE


def issue_token(*, user: User, access: TokenScope.Access) -> Token:
    """A new token for ``user`` (replacing any earlier one) with the given scope."""
    Token.objects.filter(user=user).delete()
    token = Token.objects.create(user=user)
    TokenScope.objects.create(token=token, access=access)
    return token
