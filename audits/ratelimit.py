"""Sliding-window limits kept in Redis, checked and counted in one atomic step.

An attempt is reserved in every window it counts against before the work is done, so that
parallel attempts cannot all pass a check that none of them has counted yet; an attempt that
turns out not to count (a right password) is released afterwards. Keys go through the
default cache's `make_key`, so they share its prefix (and a test's own key space).
"""

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import redis
from django.conf import settings
from django.core.cache import cache

RATE = re.compile(r"^\s*(\d+)\s*/\s*(s|sec|second|m|min|minute|h|hour|d|day)\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

# KEYS: one sorted set per window (members are attempts, scores their times).
# ARGV: the attempt's member, then (limit, period in seconds) for each key.
# Returns "0" when the attempt was counted in every window, else the seconds to wait.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local wait = 0
for i, key in ipairs(KEYS) do
    local limit = tonumber(ARGV[2 * i])
    local period = tonumber(ARGV[2 * i + 1])
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - period)
    if redis.call('ZCARD', key) >= limit then
        local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
        local free_at = oldest[2] and (tonumber(oldest[2]) + period) or (now + period)
        wait = math.max(wait, free_at - now)
    end
end
if wait > 0 then
    return tostring(wait)
end
for i, key in ipairs(KEYS) do
    redis.call('ZADD', key, now, ARGV[1])
    redis.call('EXPIRE', key, math.ceil(tonumber(ARGV[2 * i + 1])) + 1)
end
return '0'
"""


def parse_rate(rate: str) -> tuple[int, int]:
    """DRF's notation: "10/min" is (10, 60): at most 10 in any 60 seconds."""
    found = RATE.match(rate)
    if not found:
        raise ValueError(f"not a rate: {rate!r} (expected e.g. 10/min, 100/hour)")
    return int(found.group(1)), _SECONDS[found.group(2)[0]]


@dataclass(frozen=True)
class Limit:
    key: str
    rate: str


@dataclass(frozen=True)
class Reservation:
    keys: tuple[str, ...]
    member: str


class Exceeded(Exception):
    def __init__(self, wait: float) -> None:
        super().__init__(f"limit reached; free again in {wait:.1f} s")
        self.wait = wait


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


@lru_cache(maxsize=4)
def _script(url: str):
    return _client(url).register_script(_RESERVE)


def reserve(limits: Sequence[Limit]) -> Reservation:
    """Count one attempt in every window, or in none and raise `Exceeded` if one is full."""
    keys = tuple(cache.make_key(limit.key) for limit in limits)
    member = uuid.uuid4().hex
    args: list[str | int] = [member]
    for limit in limits:
        args.extend(parse_rate(limit.rate))
    wait = float(_script(settings.REDIS_URL)(keys=keys, args=args))
    if wait > 0:
        raise Exceeded(wait)
    return Reservation(keys=keys, member=member)


def release(reservation: Reservation) -> None:
    """Take a reserved attempt back out of its windows: it did not count after all."""
    pipe = _client(settings.REDIS_URL).pipeline(transaction=False)
    for key in reservation.keys:
        pipe.zrem(key, reservation.member)
    pipe.execute()
