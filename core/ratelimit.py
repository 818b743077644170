"""A small limiter on the cache: subscriptions per client and per address, failed sign-ins per username and client.

The counts live in the default cache — Redis when REDIS_URL is set, so every web process shares them; otherwise
the file cache that `make run`'s processes share. Only digests of the keys are stored (no addresses, usernames or
IPs in the cache). If the cache is down, the limiter lets requests through rather than fail the page: an outage of
the cache must not take the status page's subscribe form or the sign-in page with it.
"""

import hashlib
import ipaddress
import logging
import math
import time

from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)


def now() -> float:
    """The clock, in one place so that tests can move it forward."""
    return time.time()


# --- Who is asking ---------------------------------------------------------------------------------


def _ip(text: str | None) -> str | None:
    """A valid IP address from text that may carry a port ("1.2.3.4:5678", "[2001:db8::1]:443"), or None."""
    text = (text or "").strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    return str(address)


def client_ip(request) -> str | None:
    """The client's IP address: REMOTE_ADDR, or with TRUSTED_PROXY_COUNT = N > 0 the N-th address from the right
    of X-Forwarded-For — the one the outermost of our proxies saw. Entries left of it are whatever the client
    sent and are never trusted."""
    remote = _ip(request.META.get("REMOTE_ADDR"))
    trusted = settings.TRUSTED_PROXY_COUNT
    if not trusted:
        return remote
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if not hops:
        return remote
    # Fewer entries than proxies: the request skipped the outer ones; the first entry is the best there is.
    return _ip(hops[-trusted] if len(hops) >= trusted else hops[0]) or remote


def network_key(ip: str | None) -> str | None:
    """What one client is counted as: an IPv4 address, or the /64 an IPv6 address is in (one household or
    server usually holds a whole /64 and could otherwise take a fresh address for every request)."""
    if ip is None:
        return None
    address = ipaddress.ip_address(ip)
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return ip


# --- Counting --------------------------------------------------------------------------------------


def _key(scope: str, key: str, *parts) -> str:
    digest = hashlib.sha256(f"{scope}\0{key}".encode()).hexdigest()[:32]
    return ":".join((settings.RATELIMIT_KEY_PREFIX, scope, digest, *map(str, parts)))


def _increment(cache_key: str, ttl: int) -> int:
    if cache.add(cache_key, 1, ttl):
        return 1
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add() and incr()
        cache.set(cache_key, 1, ttl)
        return 1
    cache.touch(cache_key, ttl)  # the file cache's incr() would otherwise reset the expiry to 5 minutes
    return count


def hit(scope: str, key: str | None, rate: tuple[int, int]) -> int:
    """Count one request for key against rate = (requests, seconds); 0 if it is allowed, otherwise the seconds
    until it will be (for Retry-After).

    Fixed windows, each key's shifted by an offset of its own so that not every counter resets at the same
    moment. A burst across a window's end can get up to twice the rate; over time no key gets more than the rate.
    """
    if key is None:
        return 0
    limit, seconds = rate
    try:
        offset = int(hashlib.sha256(f"{scope}\0{key}".encode()).hexdigest()[:8], 16) % seconds
        moment = now()
        window = math.floor((moment - offset) / seconds)
        ends = offset + (window + 1) * seconds
        count = _increment(_key(scope, key, window), math.ceil(ends - moment) + 1)
    except Exception:  # the cache is down: serve the request, and say so in the log
        log.warning("Rate limit %s not applied: the cache did not answer", scope, exc_info=True)
        return 0
    return 0 if count <= limit else max(1, math.ceil(ends - moment))


# --- Failed sign-ins: count, lock, forget ----------------------------------------------------------


def count_failure(scope: str, key: str, forget_after: int) -> int:
    """Count one failure; the count is forgotten `forget_after` seconds after the latest one."""
    return _increment(_key(scope, key, "failures"), forget_after)


def lock(scope: str, key: str, seconds: int) -> None:
    cache.set(_key(scope, key, "lock"), now() + seconds, seconds + 1)


def locked_for(scope: str, key: str | None) -> int:
    """Seconds the key stays locked; 0 if it is not."""
    if key is None:
        return 0
    try:
        until = cache.get(_key(scope, key, "lock"))
    except Exception:  # the cache is down: as above
        log.warning("Lock %s not checked: the cache did not answer", scope, exc_info=True)
        return 0
    return max(0, math.ceil(until - now())) if until else 0


def forget(scope: str, key: str) -> None:
    """Drop the key's failures and any lock on it."""
    cache.delete_many([_key(scope, key, "failures"), _key(scope, key, "lock")])


# --- Saying how long -------------------------------------------------------------------------------


def describe_wait(seconds: int) -> str:
    """'in a minute', 'in 12 minutes', 'in about 3 hours' — for the sentence that tells someone to try again."""
    minutes = max(1, math.ceil(seconds / 60))
    if minutes == 1:
        return "in a minute"
    if minutes < 60:
        return f"in {minutes} minutes"
    hours = round(minutes / 60)
    return "in about an hour" if hours == 1 else f"in about {hours} hours"
