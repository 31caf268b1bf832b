"""The Redis cache backend, with one Redis client per connection pool instead of one per call.

Django's RedisCacheClient builds a new `redis.Redis` for every cache operation; building one
copies redis-py's table of ~170 response callbacks into a case-insensitive dict, about 0.3–0.5 ms
of CPU. A sign-in makes some 20 cache calls (allauth's rate limits and their locks), so that was
close to 10 ms of each sign-in's server CPU (issue 22 point 5). A `redis.Redis` is safe to share
between threads: it takes a connection from its pool for each command.
"""

from __future__ import annotations

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            if index not in self._pools:
                self._pools[index] = self._pool_class.from_url(self._servers[index], **self._pool_options)
            client = self._clients[index] = self._client(connection_pool=self._pools[index])
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
