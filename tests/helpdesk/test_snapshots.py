"""Process snapshots: rebuilt when any process changes what they hold, never stale without Redis.

Two ``Snapshot`` objects of the same name stand for the same snapshot in two processes: they
share nothing but the cache.
"""

import itertools

import pytest
from django.db import transaction

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
        # another process reads now: it cannot see the uncommitted row
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


def test_without_redis_every_use_builds_afresh_and_nothing_fails(two_processes, settings):
    first, second = two_processes
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        }
    }

    builds = [first.get()[0], first.get()[0]]
    first.invalidate()

    assert builds[1] == builds[0] + 1
    assert second.get()[0] == builds[1] + 1
