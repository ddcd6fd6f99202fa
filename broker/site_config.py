"""django-dsfr's site configuration (site title, tagline, notice), from the cache rather than the database.

django-dsfr's own context processor reads it on every page, twice when the current
language has no configuration of its own. It changes a few times a year, in the admin:
each save or deletion forgets the cached copies (the receivers below), and a copy is
kept at most SITE_CONFIG_CACHE_SECONDS anyway.
"""

from __future__ import annotations

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.utils.translation import get_language
from dsfr.models import DsfrConfig

SITE_CONFIG_CACHE_SECONDS = 3600


KEY = "dsfr:site-config"  # {language: configuration or None}


def load(language: str) -> DsfrConfig | None:
    """The configuration in `language`, else the first one, else None (django-dsfr's own rule)."""
    return DsfrConfig.objects.filter(language=language).first() or DsfrConfig.objects.first()


def site_config(request) -> dict:
    """Context processor: SITE_CONFIG, as dsfr.context_processors.site_config gives it."""
    language = get_language()
    configs = cache.get(KEY) or {}
    if language not in configs:
        configs = {**configs, language: load(language)}
        cache.set(KEY, configs, SITE_CONFIG_CACHE_SECONDS)
    return {"SITE_CONFIG": configs[language]}


def forget(**kwargs) -> None:
    cache.delete(KEY)


def connect_receivers() -> None:
    post_save.connect(forget, sender=DsfrConfig, dispatch_uid="broker-site-config-save")
    post_delete.connect(forget, sender=DsfrConfig, dispatch_uid="broker-site-config-delete")
