"""Fixed-window rate limits counted in the shared cache (Redis in production)."""

import hashlib
import time

from helpdesk.cache_counter import count_hit


def allow(key: str, *, limit: int, window_seconds: int) -> bool:
    """Count one hit for ``key``; False once more than ``limit`` hits fall in this window."""
    window = int(time.time() // window_seconds)
    cache_key = f"ratelimit:{hashlib.sha256(key.encode()).hexdigest()}:{window}"
    return count_hit(cache_key, timeout=window_seconds) <= limit
