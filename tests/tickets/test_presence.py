import pytest

from tickets import presence

pytestmark = pytest.mark.usefixtures("empty_cache")


def test_a_viewer_sees_the_others_but_not_themselves():
    presence.mark_viewing(ticket_id=1, user_id=10, name="Bea")

    others = presence.mark_viewing(ticket_id=1, user_id=11, name="Al")

    assert others == [presence.Viewer(user_id=10, name="Bea")]
    assert presence.mark_viewing(ticket_id=1, user_id=10, name="Bea") == [
        presence.Viewer(user_id=11, name="Al")
    ]


def test_viewers_are_kept_per_ticket():
    presence.mark_viewing(ticket_id=1, user_id=10, name="Bea")

    assert presence.mark_viewing(ticket_id=2, user_id=11, name="Al") == []


def test_a_viewer_not_seen_within_the_ttl_has_left(settings, monkeypatch):
    settings.PRESENCE_TTL_SECONDS = 30
    clock = [1000.0]
    monkeypatch.setattr(presence.time, "time", lambda: clock[0])
    presence.mark_viewing(ticket_id=1, user_id=10, name="Bea")

    clock[0] += 29
    assert presence.mark_viewing(ticket_id=1, user_id=11, name="Al") == [
        presence.Viewer(user_id=10, name="Bea")
    ]
    clock[0] += 2
    assert presence.mark_viewing(ticket_id=1, user_id=11, name="Al") == []


def test_the_cache_entry_expires_with_the_ttl(settings, monkeypatch):
    settings.PRESENCE_TTL_SECONDS = 17
    timeouts = []
    real_set = presence.cache.set
    monkeypatch.setattr(
        presence.cache,
        "set",
        lambda key, value, timeout: timeouts.append(timeout) or real_set(key, value, timeout),
    )

    presence.mark_viewing(ticket_id=1, user_id=10, name="Bea")

    assert timeouts == [17]


def test_stop_viewing_removes_only_that_viewer():
    presence.mark_viewing(ticket_id=1, user_id=10, name="Bea")
    presence.mark_viewing(ticket_id=1, user_id=11, name="Al")

    presence.stop_viewing(ticket_id=1, user_id=10)

    assert presence.mark_viewing(ticket_id=1, user_id=12, name="Cy") == [
        presence.Viewer(user_id=11, name="Al")
    ]
