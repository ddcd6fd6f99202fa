"""Redis unreachable: the cache misses and drops writes instead of failing, so pages and the API still answer."""

import pytest
from django.core.cache import cache
from redis.exceptions import ConnectionError as RedisConnectionError

from tests.factories import OfferFactory

UNREACHABLE_REDIS = {"default": {"BACKEND": "broker.cache.ResilientRedisCache",
                                 "LOCATION": "redis://127.0.0.1:1/0"}}  # nothing listens on port 1


@pytest.fixture
def redis_down(settings):
    settings.CACHES = UNREACHABLE_REDIS
    yield
    cache.close()


def test_reads_miss_and_writes_are_dropped(redis_down, caplog):
    """get gives the default, set and delete do nothing, add says it added nothing; each failure is logged."""
    assert cache.get("key", "default") == "default"
    cache.set("key", "value", 60)
    assert cache.add("key", "value") is False
    assert cache.get_many(["key"]) == {}
    assert cache.delete("key") is False
    assert "Cache unavailable" in caplog.text


@pytest.mark.django_db
def test_catalogue_and_api_answer_without_redis(redis_down, client, settings):
    """The catalogue page, its facet counts and the offers API (counts, throttles) work with Redis down."""
    settings.FACET_CACHE_SECONDS = 600
    OfferFactory(name="Coffre souverain")
    assert client.get("/catalogue/").status_code == 200
    response = client.get("/api/v1/offers/")
    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert client.get("/").status_code == 200


def test_one_redis_client_serves_every_operation(settings):
    """The cache keeps one redis.Redis per connection pool (not one per operation), and it works."""
    from django.core.cache import caches

    settings.CACHES = {"default": {"BACKEND": "broker.cache.ResilientRedisCache",
                                   "LOCATION": "redis://127.0.0.1:6379/15"}}
    redis_cache = caches["default"]
    client = redis_cache._cache.get_client()
    try:
        client.ping()
    except RedisConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379 (CI starts one)")
    redis_cache.set("courtier-test-key", {"n": 1}, 30)
    assert redis_cache.get("courtier-test-key") == {"n": 1}
    assert redis_cache._cache.get_client(write=True) is client
    redis_cache.delete("courtier-test-key")
