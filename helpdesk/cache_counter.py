"""A counter in the shared cache (Redis in production) that every web process sees."""

from django.core.cache import cache


def count_hit(key: str, *, timeout: int) -> int:
    """Add one to ``key`` atomically and return the new count; a new key lives ``timeout``
    seconds from its first hit."""
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # the key expired between add and incr
        cache.set(key, 1, timeout=timeout)
        return 1
