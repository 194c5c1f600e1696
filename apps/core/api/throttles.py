"""API rate limits: one Redis round trip per decision.

DRF's SimpleRateThrottle keeps every request's timestamp in one cache value: a GET and a SET per
request, and at the rates CRM integrations run (thousands a minute) a list of thousands of floats
unpickled and pickled again each time. This throttle counts in fixed windows and estimates the
sliding window from the current and the previous window's counts (the previous one weighted by how
much of it still overlaps the last `duration` seconds); one Lua script reads, decides and counts
atomically, so concurrent workers cannot both take the last slot.
"""

from __future__ import annotations

import weakref
from typing import Any

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache import cache as default_cache
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import SimpleRateThrottle

# KEYS: the current window's counter, the previous window's. ARGV: limit, weight of the previous
# window (0..1), counter lifetime (s). Returns {allowed (1/0), previous count, current count}.
SLIDING_WINDOW_LUA = """
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if previous * tonumber(ARGV[2]) + current + 1 > tonumber(ARGV[1]) then
    return {0, previous, current}
end
current = redis.call('INCR', KEYS[1])
if current == 1 then
    redis.call('EXPIRE', KEYS[1], ARGV[3])
end
return {1, previous, current}
"""

# Per cache backend: its Redis client and the script (EVALSHA, loaded only when Redis lacks it).
_scripts: weakref.WeakKeyDictionary[RedisCache, tuple[Any, Any]] = weakref.WeakKeyDictionary()


def retry_after(*, limit: int, window: float, elapsed: float, previous: int, current: int) -> float:
    """Return the seconds until the estimate `previous * (1 - t/window) + current` leaves room."""
    if current + 1 <= limit:
        # Room comes as the previous window slides out: previous * (weight - t/window) <= spare.
        spare = limit - current - 1
        weight = 1 - elapsed / window
        return max(0.0, window * (weight - spare / previous)) if previous else 0.0
    # This window alone is full: wait for the next one, and for this one to slide out far enough.
    return (window - elapsed) + window * (1 - (limit - 1) / current)


class PerClientRateThrottle(SimpleRateThrottle):
    """Rate limit per authenticated client (user or service account); anonymous is separate."""

    scope = "client"

    def get_cache_key(self, request, view):  # type: ignore[no-untyped-def]
        if not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        # `cache` is Django's proxy to the default cache; the backend behind it says what it is.
        backend = caches[DEFAULT_CACHE_ALIAS] if self.cache is default_cache else self.cache
        if not isinstance(backend, RedisCache):  # e.g. a local-memory cache
            return super().allow_request(request, view)
        now = self.timer()
        window = self.duration
        number = int(now // window)
        self.elapsed = now - number * window
        keys = [
            backend.make_and_validate_key(f"{self.key}:{number}"),
            backend.make_and_validate_key(f"{self.key}:{number - 1}"),
        ]
        if backend not in _scripts:
            # Django builds a new client (~170 response callbacks) per cache call; keep one.
            client = backend._cache.get_client(keys[0], write=True)
            _scripts[backend] = (client, client.register_script(SLIDING_WINDOW_LUA))
        client, script = _scripts[backend]
        weight = 1 - self.elapsed / window
        allowed, self.previous, self.current = script(
            keys=keys, args=[self.num_requests, repr(weight), 2 * window + 1], client=client
        )
        return bool(allowed)

    def wait(self) -> float | None:
        if not hasattr(self, "current"):
            return super().wait()
        return retry_after(
            limit=self.num_requests,
            window=self.duration,
            elapsed=self.elapsed,
            previous=self.previous,
            current=self.current,
        )
