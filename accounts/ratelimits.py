"""allauth's rate limits in one Redis round trip per check (issue 22 point 5).

allauth keeps each limit's hit times as a pickled list in the cache and guards every read-modify-
write with a lock of its own (cache.add, get, set, delete): four Redis commands per rule. A
password sign-in checks three rules ("login" per address, "login_failed" per address and per
account) and rolls the two "login_failed" hits back when the password was right: twenty
commands, each with Django's key making, pickling and a socket round trip, some 5 ms of a
sign-in's server CPU.

With the portal's Redis cache (core.cache.RedisCache) the same sliding windows live in sorted sets
(score = hit time) under allauth's own cache keys, and one Lua script checks an action's rules in
order, exactly as allauth does: drop the hits older than the window, refuse when the window is
full, else record the hit; a rule that refuses stops the check, the rules before it keep their
hit. Redis runs a script atomically, so no lock is needed. A rollback (a right password) is one
pipelined ZREM per rule. The window keys expire with their window, like allauth's.

Any other cache (LocMemCache in development without Redis) keeps allauth's implementation.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from allauth.core.internal import ratelimit as impl
from django.core.cache import cache, caches

# KEYS: one window per rule; ARGV: now, dry_run ("1"/"0"), member, then amount, duration per rule.
# Returns 0 when every rule allowed the hit, else the (1-based) index of the rule that refused.
_CONSUME = """
local now = tonumber(ARGV[1])
local dry_run = ARGV[2] == "1"
local member = ARGV[3]
for i, key in ipairs(KEYS) do
    local amount = tonumber(ARGV[2 + 2 * i])
    local duration = tonumber(ARGV[3 + 2 * i])
    if redis.call("TYPE", key).ok == "string" then
        redis.call("DEL", key)  -- a window allauth's own implementation wrote (before an upgrade)
    end
    redis.call("ZREMRANGEBYSCORE", key, "-inf", now - duration)
    if redis.call("ZCARD", key) >= amount then
        return i
    end
    if not dry_run then
        redis.call("ZADD", key, now, member)
        redis.call("PEXPIRE", key, math.ceil(duration * 1000))
    end
end
return 0
"""

_scripts: dict[int, object] = {}
_original = {"consume": impl.consume, "clear": impl.clear}


def _client():
    return cache._cache.get_client(write=True)


def _script(client):
    script = _scripts.get(id(client))
    if script is None:
        script = _scripts[id(client)] = client.register_script(_CONSUME)
    return script


@dataclass
class RedisRateLimitUsage:
    """What allauth's RateLimitUsage offers its callers: a rollback of the hits recorded."""

    keys: list[str]
    member: str

    def rollback(self) -> None:
        if not self.keys:
            return
        pipe = _client().pipeline(transaction=False)
        for key in self.keys:
            pipe.zrem(key, self.member)
        pipe.execute()

    def __bool__(self) -> bool:  # allowed, as a RateLimitUsage is truthy
        return True


def consume(
    request,
    *,
    app,
    action,
    config=None,
    key=None,
    user=None,
    dry_run=False,
    limit_get=False,
    raise_exception=False,
):
    if not uses_redis():
        return _original["consume"](
            request,
            app=app,
            action=action,
            config=config,
            key=key,
            user=user,
            dry_run=dry_run,
            limit_get=limit_get,
            raise_exception=raise_exception,
        )
    if (not limit_get) and request.method == "GET":
        return RedisRateLimitUsage(keys=[], member="")
    rates = impl.get_rates(app=app, action=action, config=config)
    if not rates:
        return RedisRateLimitUsage(keys=[], member="")
    keys = [
        cache.make_key(impl.get_cache_key(request, app=app, action=action, rate=rate, key=key, user=user))
        for rate in rates
    ]
    now = time.time()
    # A hit's member is unique, so that a rollback removes this hit and no other at the same time.
    member = f"{now:.6f}:{secrets.token_hex(4)}"
    args = [repr(now), "1" if dry_run else "0", member]
    for rate in rates:
        args += [rate.amount, repr(float(rate.duration))]
    refused = _script(_client())(keys=keys, args=args)
    if refused:
        if raise_exception:
            raise impl.RateLimited
        return None
    return RedisRateLimitUsage(keys=[] if dry_run else keys, member=member)


def clear(request, *, app, action, config=None, key=None, user=None) -> None:
    if not uses_redis():
        return _original["clear"](request, app=app, action=action, config=config, key=key, user=user)
    rates = impl.get_rates(app=app, action=action, config=config)
    keys = [
        cache.make_key(impl.get_cache_key(request, app=app, action=action, rate=rate, key=key, user=user))
        for rate in rates
    ]
    if keys:
        _client().delete(*keys)


def uses_redis() -> bool:
    from core.cache import RedisCache

    return isinstance(caches["default"], RedisCache)


def install() -> None:
    """allauth's module functions, looked up at each call (allauth.core.ratelimit, the adapter,
    consume_or_429 and the portal's own limits), become these."""
    impl.consume = consume
    impl.clear = clear
