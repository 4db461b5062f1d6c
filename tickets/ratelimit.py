"""Fixed-window rate limits counted in the shared cache (Redis in production)."""

import hashlib
import time

from django.core.cache import cache


def allow(key: str, *, limit: int, window_seconds: int) -> bool:
    """Count one hit for ``key``; False once more than ``limit`` hits fall in this window."""
    window = int(time.time() // window_seconds)
    cache_key = f"ratelimit:{hashlib.sha256(key.encode()).hexdigest()}:{window}"
    cache.add(cache_key, 0, timeout=window_seconds)
    try:
        hits = cache.incr(cache_key)
    except ValueError:  # the key expired between add and incr
        cache.set(cache_key, 1, timeout=window_seconds)
        hits = 1
    return hits <= limit
