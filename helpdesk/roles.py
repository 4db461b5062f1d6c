"""Roles are Django groups; a user's role is the highest group they belong to."""

from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from helpdesk.models import User


class Role(IntEnum):
    AGENT = 1
    LEAD = 2
    ADMIN = 3

    @property
    def group_name(self) -> str:
        return {Role.AGENT: "Agent", Role.LEAD: "Team lead", Role.ADMIN: "Admin"}[self]


_ROLE_BY_GROUP = {role.group_name: role for role in Role}


def role_of(user: "User") -> Role | None:
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMIN
    names = user.groups.values_list("name", flat=True)
    roles = [_ROLE_BY_GROUP[name] for name in names if name in _ROLE_BY_GROUP]
    return max(roles, default=None)


def has_role(user: "User", minimum: Role) -> bool:
    role = getattr(user, "role", None) if user.is_authenticated else None
    return role is not None and role >= minimum
