"""Small, rarely changed tables read by every page, kept in each web process.

Every agent page showed the same teams, agents, tags and segment choices, and asked the
database for them each time: a handful of queries whose cost was almost all in building them.
A ``Snapshot`` keeps what its ``build`` function returned in the process and asks the shared
cache (Redis in production) for one short token per use. Any process that changes a watched
table writes a new token, so every process rebuilds on its next use.

The token is replaced when the change is made and again once it commits: a process that read
the old rows between the two cannot keep them, because its copy is filed under the first
token. Without the shared cache (Redis down) every use builds afresh from the database, so a
page is slower, never stale; after a failed call a process leaves Redis alone for
``REDIS_PAUSE_SECONDS``, so a hung Redis costs one timeout, not one per snapshot and page. When
Redis answers but refuses the new token (a read-only replica, out of memory), other processes
could still read the old one, so the change itself fails.

A copy is also rebuilt once it is ``MAX_AGE_SECONDS`` old. That bounds what a change that sent
no signal (a bulk update, SQL by hand, a token lost with Redis while a process was idle, a
writer cut off from Redis while readers are not) can leave behind, and, without Redis
configured at all (the demo's one process and its in-memory cache), what another process
changed. A copy built inside a transaction that changed what it watches and then rolled back
would keep the rolled-back rows for as long; no code path reads a snapshot after such a change
in the same transaction.
"""

import contextlib
import copy
import logging
import time
import uuid
from collections.abc import Callable, Iterable

from django.core.cache import cache
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

MAX_AGE_SECONDS = 60
REDIS_PAUSE_SECONDS = 5
UNREACHABLE = (RedisConnectionError, RedisTimeoutError)  # readers cannot read the token either

_redis_paused_until = 0.0
logger = logging.getLogger(__name__)

_snapshots: list["Snapshot"] = []


class Snapshot:
    def __init__(self, name: str, build: Callable[[], object]):
        self.key = f"snapshot:{name}"
        self.build = build
        self._copy: tuple[str, float, object] | None = None  # (token, built at, value)
        self._receivers = []  # connected weakly: they go with the snapshot
        _snapshots.append(self)

    def get(self):
        """The built value; callers must not change it (it is shared by later requests)."""
        token = self._token()
        if token is None:
            return self.build()
        kept = self._copy
        if kept is None or kept[0] != token or time.monotonic() - kept[1] > MAX_AGE_SECONDS:
            kept = self._copy = (token, time.monotonic(), self.build())
        return kept[2]

    def invalidate(self) -> None:
        """Make every process rebuild: now, and again when the current transaction commits.
        Raises RedisError when Redis answers but refuses the write."""
        with contextlib.suppress(*UNREACHABLE):
            cache.set(self.key, uuid.uuid4().hex, timeout=None)
        transaction.on_commit(self._replace_token_after_commit)

    def watch(self, *senders, ignore_fields: Iterable[str] = ()) -> None:
        """Invalidate on saves and deletes of ``senders`` (models or many-to-many ``through``
        models); a save that names only ``ignore_fields`` in ``update_fields`` is no change."""
        ignored = frozenset(ignore_fields)

        def saved(sender, update_fields=None, **kwargs):
            if not (update_fields and set(update_fields) <= ignored):
                self.invalidate()

        def deleted(sender, **kwargs):
            self.invalidate()

        def changed(sender, action, **kwargs):
            if action.startswith("post_"):
                self.invalidate()

        self._receivers += [saved, deleted, changed]
        for sender in senders:
            m2m_changed.connect(changed, sender=sender)  # fires for many-to-many through models
            post_save.connect(saved, sender=sender)
            post_delete.connect(deleted, sender=sender)

    def forget(self) -> None:
        self._copy = None

    def _token(self) -> str | None:
        global _redis_paused_until
        if time.monotonic() < _redis_paused_until:
            return None
        try:
            token = cache.get(self.key)
            if token is None:
                cache.add(self.key, uuid.uuid4().hex, timeout=None)
                token = cache.get(self.key)
        except RedisError:
            _redis_paused_until = time.monotonic() + REDIS_PAUSE_SECONDS
            return None
        return token

    def _replace_token_after_commit(self) -> None:
        # The change is saved; a failure here only matters to a process that read the rows
        # between the first token and the commit, and its copy expires with MAX_AGE_SECONDS.
        try:
            cache.set(self.key, uuid.uuid4().hex, timeout=None)
        except RedisError:
            logger.warning("could not replace the token of %s after a commit", self.key)


def copies(instances: Iterable[Model]) -> list[Model]:
    """Model instances from a snapshot that a request may change (or cache data on)."""
    return [copy.copy(instance) for instance in instances]


def forget_all() -> None:
    """Drop every process-local copy and pause (tests whose rolled-back rows sent no signal)."""
    global _redis_paused_until
    _redis_paused_until = 0.0
    for snapshot in _snapshots:
        snapshot.forget()
