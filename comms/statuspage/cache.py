"""Every public body is cached under the current version, in the shared cache (Redis) and, in front of it, in
each process: a request reads the version (one Redis GET) and, while it has not changed, serves this
process's copy without fetching or decoding the body again. A change bumps the version, so every process
sees it on its next request; nothing is ever served under an old version.
"""

import secrets
import time

from django.conf import settings
from django.core.cache import cache

VERSION_KEY = "statuspage:version"

_local: dict[str, tuple[str, float, object]] = {}  # name → (version, expires at, prepared body)
_fast_reader: dict = {}  # {"conf": the CACHES entry it was made for, "client": redis client, "key": bytes}


def _new_version() -> int:
    """Random, not a counter: a Redis restarted without persistence must never hand out an old version again."""
    return secrets.randbits(62)


def _read_version() -> str | None:
    """The current version as a string, or None when there is none yet.

    On Redis this is one GET on a client kept for the process: Django's RedisCache builds a new client object
    for every call, which costs more than the GET itself, and this read happens on every request. Versions
    are stored as integers, which Django's Redis serializer writes as their digits, so the raw value is the
    version; anything else (or another cache backend) is read through the cache API.
    """
    conf = settings.CACHES["default"]
    reader = _fast_reader
    if reader.get("conf") is not conf:
        reader.clear()
        reader["conf"] = conf
        location = conf.get("LOCATION")
        plain = isinstance(location, str) and "," not in location and not conf.get("OPTIONS")
        if conf.get("BACKEND", "").endswith("redis.RedisCache") and plain:
            import redis

            reader["client"] = redis.Redis.from_url(location)
            reader["key"] = cache.make_key(VERSION_KEY)
    client = reader.get("client")
    if client is not None:
        raw = client.get(reader["key"])
        if raw is None:
            return None
        if raw.isdigit():
            return raw.decode()
    version = cache.get(VERSION_KEY)
    return None if version is None else str(version)


def current_version() -> str:
    version = _read_version()
    if version is None:
        cache.add(VERSION_KEY, _new_version(), None)
        version = str(cache.get(VERSION_KEY))
    return version


def status_cache_key(name: str) -> str:
    return f"statuspage:{current_version()}:{name}"


def _bump_version() -> None:
    cache.set(VERSION_KEY, _new_version(), None)


def cached(name: str, build, prepare=None):
    """The body cached under name, built by build() on a miss; prepare(body), if given, is what is returned
    (and kept in this process): the bytes a view sends, worked out once per version instead of per request.

    The version is taken before building, so a body built from data that changes meanwhile is stored under
    the old version, which nobody reads any more. This process's copy is kept STATUS_PAGE_CACHE_SECONDS
    from when it was fetched, so time-dependent content ("resolved in the last 90 days") is still rebuilt.
    """
    version = current_version()
    now = time.monotonic()
    held = _local.get(name)
    if held is not None and held[0] == version and held[1] > now:
        return held[2]
    key = f"statuspage:{version}:{name}"
    body = cache.get(key)
    if body is None:
        body = build()
        cache.set(key, body, settings.STATUS_PAGE_CACHE_SECONDS)
    prepared = body if prepare is None else prepare(body)
    _local[name] = (version, now + settings.STATUS_PAGE_CACHE_SECONDS, prepared)
    return prepared
