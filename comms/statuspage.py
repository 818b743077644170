"""The public status page's cache. Everything public is cached under a version that any public change bumps."""

import uuid

from django.core.cache import cache

VERSION_KEY = "statuspage:version"


def status_cache_key(name: str) -> str:
    version = cache.get(VERSION_KEY)
    if version is None:
        version = uuid.uuid4().hex
        cache.add(VERSION_KEY, version, None)
        version = cache.get(VERSION_KEY, version)
    return f"statuspage:{version}:{name}"


def invalidate_status_page() -> None:
    """Call after anything public changes: an incident's status, a component's status, a published update."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, None)
