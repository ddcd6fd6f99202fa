"""The Redis cache, made optional: when Redis cannot be reached, reads miss and writes are dropped.

Everything Courtier caches (facet and result counts, key figures, the observatory's figures,
API throttle history) can be computed again from PostgreSQL, so an unreachable Redis must
slow pages down, not break them with a 500. Each failure is logged.
"""

from __future__ import annotations

import logging

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class ReusingRedisCacheClient(RedisCacheClient):
    """Django's Redis client, keeping one redis.Redis per connection pool instead of making one per operation.

    Making a redis.Redis sets up its table of response callbacks: about 0.1 ms, paid by each of
    the half-dozen cache operations of an API request (bench/run.py). A redis.Redis is safe to
    share between threads, and its pool notices a fork and opens new connections in the child.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient

    def _attempt(self, operation: str, call, *args, otherwise=None):
        """`call(*args)`, or `otherwise` (logged) when Redis cannot be reached."""
        try:
            return call(*args)
        except UNREACHABLE as error:
            logger.warning("Cache unavailable (%s skipped): %s", operation, error)
            return otherwise

    def get(self, key, default=None, version=None):
        return self._attempt("get", super().get, key, default, version, otherwise=default)

    def get_many(self, keys, version=None):
        return self._attempt("get_many", super().get_many, keys, version, otherwise={})

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self._attempt("set", super().set, key, value, timeout, version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._attempt("add", super().add, key, value, timeout, version, otherwise=False)

    def delete(self, key, version=None):
        return self._attempt("delete", super().delete, key, version, otherwise=False)

    def clear(self):
        return self._attempt("clear", super().clear, otherwise=False)
