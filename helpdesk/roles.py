"""Roles are Django groups; a user's role is the highest group they belong to."""

from enum import IntEnum
from typing import TYPE_CHECKING

from helpdesk.snapshots import Snapshot

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


def _build_group_roles() -> dict[int, Role]:
    """Each staff member's highest role by group, kept per process: every page checks it."""
    from helpdesk.models import User

    memberships = User.groups.through.objects.filter(group__name__in=list(_ROLE_BY_GROUP))
    roles: dict[int, Role] = {}
    for user_id, name in memberships.values_list("user_id", "group__name"):
        role = _ROLE_BY_GROUP[name]
        roles[user_id] = max(role, roles.get(user_id, role))
    return roles


GROUP_ROLES = Snapshot("helpdesk-group-roles", _build_group_roles)


def watch_changes() -> None:
    """Called once from HelpdeskConfig.ready(): a user put in or taken out of a group, a group
    renamed."""
    from django.contrib.auth.models import Group

    from helpdesk.models import User

    GROUP_ROLES.watch(Group, User.groups.through)


def role_of(user: "User") -> Role | None:
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMIN
    return GROUP_ROLES.get().get(user.pk)


def has_role(user: "User", minimum: Role) -> bool:
    role = getattr(user, "role", None) if user.is_authenticated else None
    return role is not None and role >= minimum
