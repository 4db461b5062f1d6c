"""Process snapshots: rebuilt when any process changes what they hold, never stale without Redis.

Two ``Snapshot`` objects of the same name stand for the same snapshot in two processes: they
share nothing but the cache.
"""

import itertools
import socket
import threading
import time

import pytest
from django.core.cache import cache
from django.db import transaction
from redis.exceptions import ReadOnlyError

from helpdesk import snapshots
from helpdesk.snapshots import Snapshot
from tests import factories
from tickets.models import Tag

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_processes(empty_cache, request):
    builds = itertools.count(1)
    name = f"test-tags-{request.node.name}"
    first = Snapshot(name, lambda: (next(builds), sorted(Tag.objects.values_list("name"))))
    second = Snapshot(name, first.build)
    yield first, second
    snapshots._snapshots[:] = [s for s in snapshots._snapshots if s not in (first, second)]


def test_a_snapshot_is_built_once_while_nothing_changes(two_processes):
    first, _ = two_processes

    assert first.get() is first.get()


def test_a_change_in_one_process_is_seen_by_the_other_on_its_next_use(two_processes):
    first, second = two_processes
    before = second.get()

    Tag.objects.create(name="billing")
    first.invalidate()

    assert second.get() != before
    assert second.get()[1] == [("billing",)]


def test_a_copy_read_before_the_change_committed_is_rebuilt_after_the_commit(
    two_processes, django_capture_on_commit_callbacks
):
    first, second = two_processes
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        Tag.objects.create(name="billing")
        first.invalidate()
        # another process reads now, between the first token and the commit
        read_during_the_change = second.get()

    assert second.get() is not read_during_the_change


def test_watched_saves_deletes_and_many_to_many_changes_invalidate(two_processes):
    first, second = two_processes
    first.watch(Tag, factories.CustomerFactory._meta.model.tags.through)
    customer = factories.CustomerFactory()
    seen = [second.get()]

    tag = Tag.objects.create(name="vip")
    seen.append(second.get())
    customer.tags.add(tag)
    seen.append(second.get())
    tag.delete()
    seen.append(second.get())

    assert len({build for build, _ in seen}) == 4


def test_a_save_of_ignored_fields_only_keeps_the_snapshot(two_processes):
    first, second = two_processes
    first.watch(Tag, ignore_fields=("colour",))
    tag = Tag.objects.create(name="vip")
    kept = second.get()

    tag.colour = "#000000"
    tag.save(update_fields=["colour"])

    assert second.get() is kept


def test_a_copy_is_rebuilt_once_it_is_too_old(two_processes, monkeypatch):
    first, _ = two_processes
    kept = first.get()

    monkeypatch.setattr(snapshots, "MAX_AGE_SECONDS", -1)

    assert first.get() is not kept


def _redis_at(settings, port: int) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


def test_without_redis_every_use_builds_afresh_and_nothing_fails(two_processes, settings):
    first, second = two_processes
    _redis_at(settings, 1)  # nothing listens on port 1

    builds = [first.get()[0], first.get()[0]]
    first.invalidate()

    assert builds[1] == builds[0] + 1
    assert second.get()[0] == builds[1] + 1


@pytest.fixture
def hung_redis():
    """A server that accepts connections and never answers."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        accepted = []
        threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
        yield server.getsockname()[1]
        for connection, _ in accepted:
            connection.close()


def test_a_hung_redis_costs_one_timeout_then_is_left_alone_for_a_while(
    two_processes, settings, hung_redis
):
    first, second = two_processes
    _redis_at(settings, hung_redis)

    first_use, later_uses = _seconds(first.get), _seconds(lambda: [second.get(), first.get()])
    snapshots.forget_all()  # ends the pause, as REDIS_PAUSE_SECONDS passing would

    assert 1 <= first_use < 2
    assert later_uses < 0.5
    assert _seconds(first.get) >= 1  # Redis is asked again


def _seconds(call) -> float:
    started = time.monotonic()
    call()
    return time.monotonic() - started


def test_a_change_that_redis_refuses_to_record_fails(two_processes, monkeypatch):
    first, second = two_processes
    kept = second.get()

    def read_only(*args, **kwargs):
        raise ReadOnlyError("You can't write against a read only replica.")

    monkeypatch.setattr(cache, "set", read_only)
    with pytest.raises(ReadOnlyError), transaction.atomic():
        Tag.objects.create(name="billing")
        first.invalidate()

    assert not Tag.objects.exists()
    assert second.get() is kept
