"""Role checks for views (decorators) and the API (DRF permission classes)."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.permissions import BasePermission

from helpdesk.roles import Role, has_role


def role_required(minimum: Role):
    """Anonymous users go to the login page; logged-in users below ``minimum`` get 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, minimum):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.minimum_role = minimum
        return wrapped

    return decorator


def public_view(reason: str):
    """Mark a view that needs no staff login (customers, providers pushing mail, health).

    The permission-matrix test requires every URL to carry either a role or this mark.
    """

    def decorator(view):
        view.public_reason = reason
        return view

    return decorator


agent_required = role_required(Role.AGENT)
lead_required = role_required(Role.LEAD)
admin_required = role_required(Role.ADMIN)


class _RolePermission(BasePermission):
    """The user's role is at least ``minimum`` and the request's token scope allows the method."""

    minimum: Role

    def has_permission(self, request, view) -> bool:
        from helpdesk.api_tokens import token_allows  # models are loaded by the time views run

        if not (request.user and has_role(request.user, self.minimum)):
            return False
        if not token_allows(request):
            raise ApiPermissionDenied("This API token is read-only.")
        return True


class IsAgent(_RolePermission):
    minimum = Role.AGENT


class IsLead(_RolePermission):
    minimum = Role.LEAD


class IsAdmin(_RolePermission):
    minimum = Role.ADMIN
