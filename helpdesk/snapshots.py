"""Small, rarely changed tables read by every page, kept in each web process.

Every agent page showed the same teams, agents, tags and segment choices, and asked the
database for them each time: a handful of queries whose cost was almost all in building them.
A ``Snapshot`` keeps what its ``build`` function returned in the process and asks the shared
cache (Redis in production) for one short token per use. Any process that changes a watched
table writes a new token, so every process rebuilds on its next use.

The token is replaced when the change is made and again once it commits: a process that read
the old rows between the two cannot keep them, because its copy is filed under the first
token. Without the shared cache (Redis down) every use builds afresh from the database, so a
page is slower, never stale. A copy is also rebuilt once it is ``MAX_AGE_SECONDS`` old, which
bounds what a change that sent no signal (a bulk update, SQL by hand, a token lost with Redis
while a process was idle) can leave behind, and, without Redis configured at all (the demo's
one process and its in-memory cache), what another process changed.
"""

import contextlib
import copy
import time
import uuid
from collections.abc import Callable, Iterable

from django.core.cache import cache
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save
from redis.exceptions import RedisError

MAX_AGE_SECONDS = 60

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
        """Make every process rebuild: now, and again when the current transaction commits."""
        self._replace_token()
        transaction.on_commit(self._replace_token)

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
            if _is_through(sender):
                m2m_changed.connect(changed, sender=sender)
            post_save.connect(saved, sender=sender)
            post_delete.connect(deleted, sender=sender)

    def forget(self) -> None:
        self._copy = None

    def _token(self) -> str | None:
        try:
            token = cache.get(self.key)
            if token is None:
                cache.add(self.key, uuid.uuid4().hex, timeout=None)
                token = cache.get(self.key)
        except RedisError:
            return None
        return token

    def _replace_token(self) -> None:
        # With Redis down there is nothing to make stale: no process reuses a snapshot.
        with contextlib.suppress(RedisError):
            cache.set(self.key, uuid.uuid4().hex, timeout=None)


def _is_through(model: type[Model]) -> bool:
    return model._meta.auto_created is not False


def copies(instances: Iterable[Model]) -> list[Model]:
    """Model instances from a snapshot that a request may change (or cache data on)."""
    return [copy.copy(instance) for instance in instances]


def forget_all() -> None:
    """Drop every process-local copy (tests whose rolled-back rows sent no signal)."""
    for snapshot in _snapshots:
        snapshot.forget()
