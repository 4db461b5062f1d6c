"""Who is looking at a ticket right now, kept only in the cache.

Each ticket has one cache entry: a dict of viewer id -> (name, last seen). A viewer's browser
polls every few seconds; anyone not seen within ``PRESENCE_TTL_SECONDS`` has left. The entry
itself expires with the same TTL, so a ticket nobody looks at leaves nothing behind.
"""

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache


@dataclass(frozen=True)
class Viewer:
    user_id: int
    name: str


def _key(ticket_id: int) -> str:
    return f"presence:ticket:{ticket_id}"


def _ttl() -> int:
    return settings.PRESENCE_TTL_SECONDS


def _current(ticket_id: int, now: float) -> dict[int, tuple[str, float]]:
    seen = cache.get(_key(ticket_id)) or {}
    return {uid: entry for uid, entry in seen.items() if now - entry[1] < _ttl()}


def mark_viewing(*, ticket_id: int, user_id: int, name: str) -> list[Viewer]:
    """Record that the user is viewing the ticket; return everyone else viewing it."""
    now = time.time()
    seen = _current(ticket_id, now)
    seen[user_id] = (name, now)
    cache.set(_key(ticket_id), seen, timeout=_ttl())
    return sorted(
        (Viewer(user_id=uid, name=entry[0]) for uid, entry in seen.items() if uid != user_id),
        key=lambda viewer: viewer.name,
    )


def stop_viewing(*, ticket_id: int, user_id: int) -> None:
    now = time.time()
    seen = _current(ticket_id, now)
    if seen.pop(user_id, None) is not None:
        cache.set(_key(ticket_id), seen, timeout=_ttl())
