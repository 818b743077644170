"""Mastodon: an approved public message becomes a status on the configured account, through Mastodon.py.

Each later update of the same incident replies to the previous status of that incident, so followers read one
thread. A retried send carries the same Idempotency-Key (from the delivery's unique code), so Mastodon answers it
with the status it already made instead of posting twice. Requests go through core.outbound's guarded session.
"""

import time
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache
from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonError,
    MastodonNetworkError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)

from comms.channels.base import (
    Recipient,
    Refusal,
    Transport,
    TransportError,
    previous_post,
    register,
    wait_for_earlier_post,
)
from comms.choices import Audience
from comms.rendering import MASTODON_DEFAULT_LIMIT, mastodon_limit_cache_key, render_mastodon_post
from core.outbound import OutboundRefused, OutboundSession, check_url

MASTODON_RECIPIENT = "mastodon"
REQUEST_TIMEOUT_SECONDS = 15
LIMIT_CACHE_SECONDS = 24 * 3600  # an instance changes its limit rarely
LIMIT_UNKNOWN_CACHE_SECONDS = 600  # the instance did not say: use the default, and ask again in a while
NOT_CONFIGURED = "Mastodon is not configured: set MASTODON_API_BASE_URL and MASTODON_ACCESS_TOKEN."


class UntypedMastodon(Mastodon):
    """Mastodon.py answering the JSON as parsed (dicts and lists; pagination as Mastodon.py keeps it), for readers
    that take fields by key. Its typed entities resolve the type hints of every field of every object: 5 ms of CPU
    per status of a page, four fifths of polling's cost (docs/benchmarks.md, "Polling ingest"). Mastodon.py has no
    public switch for it; this replaces the one private step that casts (its name mangled as Python does)."""

    def _Mastodon__try_cast_to_type(self, value, override_type=None):
        return value, None


def mastodon_client(session=None, typed: bool = True) -> Mastodon:
    """A client for the configured account. It never sleeps on a rate limit (ratelimit_method="throw"): the
    delivery is retried at the reset time instead, and it never asks the instance for its version. typed=False:
    answers as plain JSON (UntypedMastodon), for the readers of many statuses."""
    return (Mastodon if typed else UntypedMastodon)(
        access_token=settings.MASTODON_ACCESS_TOKEN,
        api_base_url=settings.MASTODON_API_BASE_URL,
        ratelimit_method="throw",
        request_timeout=REQUEST_TIMEOUT_SECONDS,
        version_check_mode="none",
        session=session if session is not None else OutboundSession(),
    )


def check_base_url() -> None:
    """Refuse (permanently) an instance URL the outbound guard would refuse: no point retrying a configuration."""
    try:
        check_url(settings.MASTODON_API_BASE_URL)
    except OutboundRefused as refusal:
        raise TransportError(f"EARS does not send to MASTODON_API_BASE_URL: {refusal}.", permanent=True) from None


def instance_character_limit(client: Mastodon) -> int:
    """The instance's status limit (/api/v2/instance configuration.statuses.max_characters, or the same field of
    /api/v1/instance), cached; Mastodon's default 500 when the instance does not say."""
    key = mastodon_limit_cache_key()
    cached = cache.get(key)
    if cached:
        return cached
    for read in (client.instance_v2, client.instance_v1):
        try:
            limit = int(read()["configuration"]["statuses"]["max_characters"])
        except (MastodonError, KeyError, TypeError, ValueError):
            continue
        if limit > 0:
            cache.set(key, limit, LIMIT_CACHE_SECONDS)
            return limit
    cache.set(key, MASTODON_DEFAULT_LIMIT, LIMIT_UNKNOWN_CACHE_SECONDS)
    return MASTODON_DEFAULT_LIMIT


def post_status(client: Mastodon, text: str, *, in_reply_to: str | None, idempotency_key: str) -> str:
    """Post one status; return its id. Errors become TransportError."""
    with mastodon_errors(client):
        status = client.status_post(
            text, in_reply_to_id=in_reply_to or None, visibility=settings.MASTODON_VISIBILITY,
            idempotency_key=idempotency_key,
        )
    return str(status["id"])


def addressed_to_author(client: Mastodon, status_id: str, text: str) -> str:
    """A reply to someone's status starts with their @handle (as Mastodon's own composer writes it), so that they
    are told of it: only people mentioned are notified."""
    with mastodon_errors(client, "read the status replied to"):
        acct = client.status(status_id)["account"]["acct"]
    return text if f"@{acct}".lower() in text.lower() else f"@{acct} {text}"


@contextmanager
def mastodon_errors(client: Mastodon, doing: str = "post"):
    """Mastodon.py's errors as TransportError: 429 waits for X-RateLimit-Reset, 5xx and the network are
    transient, 401 and other 4xx (403, 404, 422 duplicate or too long) are permanent."""
    try:
        yield
    except MastodonRatelimitError:
        raise TransportError("Mastodon rate limit reached (429)", permanent=False, refusal=Refusal.RATE_LIMIT,
                             retry_after=_seconds_until(client.ratelimit_reset)) from None
    except MastodonUnauthorizedError:
        raise TransportError("Mastodon refused the access token (401): check MASTODON_ACCESS_TOKEN and that it has "
                             "the write:statuses scope", permanent=True, refusal=Refusal.TOKEN) from None
    except MastodonServerError as error:
        raise TransportError(f"Mastodon server error ({_status_code(error)})", permanent=False) from None
    except MastodonAPIError as error:  # 403, 404 (the status replied to is gone), 422 (duplicate, too long)
        raise TransportError(f"Mastodon refused to {doing} ({_status_code(error)}): {_detail(error)}",
                             permanent=True) from None
    except MastodonNetworkError as error:
        raise TransportError(f"Mastodon could not be reached: {error}", permanent=False, channel_down=True) from None


def _seconds_until(reset) -> float | None:
    """X-RateLimit-Reset as Mastodon.py read it (an epoch), as seconds from now; None when it did not say."""
    if not isinstance(reset, int | float):
        return None
    return min(max(reset - time.time(), 1.0), 86_400.0)


def _status_code(error: MastodonAPIError) -> str:
    return str(error.args[1]) if len(error.args) > 1 else "?"


def _detail(error: MastodonAPIError) -> str:
    return str(error.args[3] or error.args[2]) if len(error.args) > 3 else str(error)


@register
class MastodonTransport(Transport):
    kind = "mastodon"
    label = "Mastodon"
    audiences = frozenset({Audience.PUBLIC})

    def is_configured(self) -> bool:
        return settings.MASTODON_CONFIGURED

    def not_configured_reason(self) -> str:
        return "" if self.is_configured() else NOT_CONFIGURED

    def recipients(self, message):
        yield Recipient(address=MASTODON_RECIPIENT)

    def send(self, delivery) -> str:
        if not self.is_configured():
            raise TransportError(NOT_CONFIGURED, permanent=True)
        check_base_url()
        client = mastodon_client()
        key = f"ears-{delivery.code}"
        if delivery.in_reply_to:  # a support reply to a customer's status (its id on our instance)
            text = addressed_to_author(client, delivery.in_reply_to, delivery.body)
            return post_status(client, text, in_reply_to=delivery.in_reply_to, idempotency_key=key)
        wait_for_earlier_post(delivery)  # a thread in order, also when retries after an outage
        text = render_mastodon_post(delivery.message, instance_character_limit(client))
        previous = previous_post(delivery)
        return post_status(client, text, in_reply_to=previous.external_id if previous else None, idempotency_key=key)
