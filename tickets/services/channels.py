"""Teams per channel: who gets a channel's tickets when no rule, segment or mailbox chose a team.

Admins keep the mapping in the Django admin (ChannelTeam), next to teams and mailboxes.
"""

from tickets.models import ChannelTeam


def channel_team_ids() -> dict[str, int]:
    """channel -> team id, in one query."""
    return dict(ChannelTeam.objects.values_list("channel", "team_id"))
