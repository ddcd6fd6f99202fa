"""A version token of the catalogue, changed by every write, to key cached reads (facet counts, key figures).

`catalogue_version()` reads one key of the default cache (Redis in production, so
shared by every process); `bump_catalogue_version()` replaces it. A cached read
keys itself on the token, so a write makes every older entry unreachable at once
(the entries then simply expire). Receivers below bump it on every save and
delete of what the catalogue's counts read; set-based writes that send no signal
(`update()`, `bulk_create()`) call `bump_after_commit()` themselves.

The bump happens when the transaction commits, and also at once: a reader between
an immediate bump and the commit would still see the old rows and could cache them
under the new token, which the bump on commit then abandons.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

VERSION_KEY = "catalogue:version"


def catalogue_version() -> str:
    """The current token, created on first read and kept without expiry."""
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(VERSION_KEY)
    return version


T = TypeVar("T")


def cached_read(kind: str, parts: tuple, compute: Callable[[], T]) -> T:
    """`compute()`, kept in the cache under the current token and `parts` (everything else the result
    depends on, JSON-serialisable) for settings.FACET_CACHE_SECONDS; 0 computes every time."""
    seconds = settings.FACET_CACHE_SECONDS
    if not seconds:
        return compute()
    digest = hashlib.sha256(json.dumps([catalogue_version(), *parts], sort_keys=True).encode()).hexdigest()
    key = f"catalogue:{kind}:{digest}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, seconds)
    return value


def bump_catalogue_version() -> None:
    """Set a new token: every cached read keyed on the old one is abandoned."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


def bump_after_commit() -> None:
    """Bump now and again when the current transaction commits (at once outside a transaction).

    The bump now lets reads in the same transaction (and tests, which never commit) see the
    write; the bump on commit is the one other connections rely on. One callback per transaction
    is enough, however many rows it writes.
    """
    bump_catalogue_version()
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return
    if any(entry[1] is bump_catalogue_version for entry in connection.run_on_commit):
        return
    transaction.on_commit(bump_catalogue_version)


def _on_write(sender, **kwargs) -> None:
    bump_after_commit()  # loaddata (raw) included: it changes the catalogue too


def _on_m2m_write(sender, action: str, **kwargs) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        bump_after_commit()


def watched_models() -> list:
    """What the catalogue's counts and filters read."""
    from catalogue.models import Certification, Offer, OfferLocation, Provider, Qualification
    from procurement.models import FrameworkContract, Lot, Referencing

    return [Offer, Qualification, Certification, OfferLocation, Provider, Referencing, Lot, FrameworkContract]


def connect_receivers() -> None:
    """Called once by CatalogueConfig.ready()."""
    for model in watched_models():
        uid = f"catalogue-freshness-{model._meta.label_lower}"
        post_save.connect(_on_write, sender=model, dispatch_uid=f"{uid}-save")
        post_delete.connect(_on_write, sender=model, dispatch_uid=f"{uid}-delete")
    from procurement.models import Lot

    m2m_changed.connect(_on_m2m_write, sender=Lot.offers.through, dispatch_uid="catalogue-freshness-lot-offers")
