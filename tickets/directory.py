"""Teams, agents and tags: what every agent page offers in its selects and what decides which
private teams' tickets a user may see, kept per process (``helpdesk.snapshots``)."""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.db.models import Q, QuerySet

from helpdesk.models import User
from helpdesk.roles import Role
from helpdesk.snapshots import Snapshot
from tickets.models import Tag, Team


@dataclass(frozen=True)
class Directory:
    teams: tuple[Team, ...]
    agents: tuple[User, ...]
    tags: tuple[Tag, ...]
    private_team_people: Mapping[int, frozenset[int]]  # private team -> its members and lead


def agents() -> QuerySet:
    """Staff who can be assigned tickets: every active user with a role."""
    role_groups = [role.group_name for role in Role]
    return (
        User.objects.filter(is_active=True)
        .filter(Q(groups__name__in=role_groups) | Q(is_superuser=True))
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def _build() -> Directory:
    teams = tuple(Team.objects.all())
    people = defaultdict(set)
    for team in teams:
        if team.private:
            people[team.pk].add(team.lead_id)
    members = Team.members.through.objects.filter(team__private=True)
    for team_id, user_id in members.values_list("team_id", "user_id"):
        people[team_id].add(user_id)
    return Directory(
        teams=teams,
        agents=tuple(agents()),
        tags=tuple(Tag.objects.all()),
        private_team_people={team_id: frozenset(ids) for team_id, ids in people.items()},
    )


DIRECTORY = Snapshot("tickets-directory", _build)


def directory() -> Directory:
    return DIRECTORY.get()


def watch_changes() -> None:
    """Called once from TicketsConfig.ready()."""
    DIRECTORY.watch(Team, Team.members.through, Tag, Group, User.groups.through)
    # Logging in and changing a password save the user without changing the list.
    DIRECTORY.watch(User, ignore_fields=("last_login", "password"))
