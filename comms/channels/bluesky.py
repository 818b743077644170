"""Bluesky: an approved public message becomes a post on the configured account, through the atproto SDK.

The status page link is made clickable with a link facet (UTF-8 byte offsets), and each later update of the same
incident replies to the previous post of that incident (reply refs: the incident's first post as root, the latest
as parent), so followers read one thread. The external id stored on the delivery is "<at-uri> <cid>": both are
needed to reply.

A post's record key is derived from the delivery (a TID made of its creation time and its code), so a retry after
an answer that never arrived first looks the record up and does not post twice. Signing in costs a
createSession (rate-limited per account): the session is kept per process and refreshed by the SDK.
"""

import hashlib
import ssl
import threading
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone

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
from comms.rendering import link_facets, render_bluesky_post
from core.outbound import OutboundRefused, check_url

if TYPE_CHECKING:
    from atproto import Client

# The atproto SDK is imported where it is used: importing it takes most of a second (its generated models), which
# every process would pay at start, Bluesky configured or not.

BLUESKY_RECIPIENT = "bluesky"
POST_COLLECTION = "app.bsky.feed.post"
NOT_CONFIGURED = "Bluesky is not configured: set BLUESKY_HANDLE and BLUESKY_APP_PASSWORD."
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"  # base32-sortable (atproto record keys of kind "tid")

_sessions: dict[tuple[str, str], str] = {}  # (service, handle) → exported session string, this process only
_sessions_lock = threading.Lock()


def forget_sessions() -> None:
    with _sessions_lock:
        _sessions.clear()


def _session_key() -> tuple[str, str]:
    return settings.BLUESKY_SERVICE_URL, settings.BLUESKY_HANDLE


def _keep_session(key: tuple[str, str], session_string: str) -> None:
    with _sessions_lock:
        _sessions[key] = session_string


@cache
def _tls() -> ssl.SSLContext:
    """One TLS context for the process's clients, made by httpx as it makes one for each new client (its
    certificate authorities, SSL_CERT_FILE or SSL_CERT_DIR). Made per client, loading the authorities again was a
    third of a poll's CPU; an SSLContext is safe to share between clients and threads."""
    import httpx

    return httpx.create_ssl_context()


def bluesky_client() -> "Client":
    """A client signed in as the configured account: with the session this process already has, or a new one.
    TransportError when the service URL is refused or signing in fails."""
    from atproto import Client
    from atproto_client.exceptions import AtProtocolError, UnauthorizedError
    from atproto_client.request import Request

    try:
        check_url(settings.BLUESKY_SERVICE_URL)
    except OutboundRefused as refusal:
        raise TransportError(f"EARS does not send to BLUESKY_SERVICE_URL: {refusal}.", permanent=True) from None
    key = _session_key()
    client = Client(base_url=settings.BLUESKY_SERVICE_URL, request=Request(verify=_tls()))
    client.on_session_change(lambda event, session: _keep_session(key, session.export()))
    with _sessions_lock:
        saved = _sessions.get(key)
    if saved:
        try:
            client.login(session_string=saved, fetch_bsky_profile=False)
            return client
        except (AtProtocolError, ValueError):
            forget_sessions()  # refreshing it failed: sign in anew
    try:
        client.login(settings.BLUESKY_HANDLE, settings.BLUESKY_APP_PASSWORD, fetch_bsky_profile=False)
    except UnauthorizedError:
        raise TransportError("Bluesky refused to sign in (401): check BLUESKY_HANDLE and BLUESKY_APP_PASSWORD "
                             "(an app password, not the account's password)", permanent=True,
                             refusal=Refusal.TOKEN) from None
    except AtProtocolError as error:
        raise transport_error(error, "sign in") from None
    _keep_session(key, client.export_session_string())
    return client


def transport_error(error, doing: str = "post") -> TransportError:
    """An atproto error as a TransportError: 429 waits for ratelimit-reset, 5xx and the network are transient,
    401/403 and other 4xx (a duplicate, a bad record) are permanent."""
    from atproto_client.exceptions import RateLimitExceededError, RequestErrorBase, UnauthorizedError

    if isinstance(error, RateLimitExceededError):
        reset = error.reset_at
        wait = min(max((reset - timezone.now()).total_seconds(), 1.0), 86_400.0) if reset else None
        return TransportError(f"Bluesky rate limit reached (429) on {doing}", permanent=False, retry_after=wait,
                              refusal=Refusal.RATE_LIMIT)
    response = error.response if isinstance(error, RequestErrorBase) else None
    if response is None:
        return TransportError(f"Bluesky could not be reached to {doing}: {error!r}", permanent=False,
                              channel_down=True)
    if isinstance(error, UnauthorizedError):
        forget_sessions()
        return TransportError(f"Bluesky refused to {doing} ({response.status_code}): {_detail(error)}. Check "
                              "BLUESKY_HANDLE and BLUESKY_APP_PASSWORD", permanent=True)
    if response.status_code >= 500:
        return TransportError(f"Bluesky server error ({response.status_code}) on {doing}", permanent=False)
    return TransportError(f"Bluesky refused to {doing} ({response.status_code}): {_detail(error)}", permanent=True)


def _detail(error) -> str:
    content = error.response.content if error.response is not None else None
    message = getattr(content, "message", None) or getattr(content, "error", None)
    return str(message or "no detail given")


def record_key(delivery) -> str:
    """A TID (13 characters, base32-sortable: 53 bits of microseconds, 10 bits of clock id) that is the same for
    every attempt at this delivery: its creation time, and a clock id taken from its unique code."""
    created = delivery.created_at or datetime.now(UTC)
    micros = int(created.timestamp() * 1_000_000)
    clock_id = int.from_bytes(hashlib.sha256(delivery.code.encode()).digest()[:2], "big") & 0x3FF
    value = ((micros & ((1 << 53) - 1)) << 10) | clock_id
    return "".join(_TID_ALPHABET[(value >> (5 * shift)) & 31] for shift in range(12, -1, -1))


def split_external_id(external_id: str) -> dict | None:
    """{"uri", "cid"} of a post from its stored external id "<at-uri> <cid>"; None if it is not one."""
    uri, _, cid = external_id.partition(" ")
    return {"uri": uri, "cid": cid} if uri.startswith("at://") and cid else None


def reply_refs(delivery) -> dict | None:
    """app.bsky.feed.post#replyRef to the incident's previous post (parent) and its first post (root)."""
    from comms.choices import DeliveryStatus
    from comms.models import Delivery

    previous = previous_post(delivery)
    parent = split_external_id(previous.external_id) if previous else None
    if parent is None:
        return None
    first = (
        Delivery.objects.filter(channel=delivery.channel, status=DeliveryStatus.SENT,
                                message__incident_id=delivery.message.incident_id)
        .exclude(external_id="").order_by("sent_at", "pk").first()
    )
    root = split_external_id(first.external_id) if first else None
    return {"root": root or parent, "parent": parent}


def reply_to_post(client: "Client", target: str) -> dict:
    """Reply refs to someone's post: it is the parent, and its own thread's root (or itself) the root. The CIDs
    come from app.bsky.feed.getPosts: a mention stores only the post's URI."""
    from atproto_client.exceptions import AtProtocolError

    stored = split_external_id(target)
    if stored is not None:
        return {"root": stored, "parent": stored}
    if not target.startswith("at://"):
        raise TransportError("A Bluesky reply needs the at:// URI of the post it answers", permanent=True)
    try:
        posts = client.app.bsky.feed.get_posts({"uris": [target]}).posts
    except AtProtocolError as error:
        raise transport_error(error, "read the post replied to") from None
    if not posts:
        raise TransportError("The Bluesky post replied to is gone (deleted, or hidden from us)", permanent=True)
    parent = {"uri": posts[0].uri, "cid": posts[0].cid}
    thread = getattr(posts[0].record, "reply", None)
    root = {"uri": thread.root.uri, "cid": thread.root.cid} if thread is not None else parent
    return {"root": root, "parent": parent}


def create_post(client: "Client", text: str, *, reply: dict | None, rkey: str, look_first: bool) -> str:
    """Create the post record under rkey; return "<uri> <cid>". With look_first (a retry), a record already at
    rkey is the one an earlier attempt made: it is returned instead of posting again."""
    from atproto_client.exceptions import AtProtocolError, BadRequestError

    repo = client._session.did  # noqa: SLF001 - the signed-in account's DID; the SDK keeps it only there
    try:
        if look_first:
            try:
                found = client.com.atproto.repo.get_record(
                    {"repo": repo, "collection": POST_COLLECTION, "rkey": rkey})
                return f"{found.uri} {found.cid}"
            except BadRequestError:
                pass  # RecordNotFound: the earlier attempt made nothing
        record = {"$type": POST_COLLECTION, "text": text, "createdAt": client.get_current_time_iso(),
                  "langs": ["en"]}
        facets = link_facets(text)
        if facets:
            record["facets"] = facets
        if reply:
            record["reply"] = reply
        created = client.com.atproto.repo.create_record(
            {"repo": repo, "collection": POST_COLLECTION, "rkey": rkey, "record": record})
    except AtProtocolError as error:
        raise transport_error(error) from None
    return f"{created.uri} {created.cid}"


@register
class BlueskyTransport(Transport):
    kind = "bluesky"
    label = "Bluesky"
    audiences = frozenset({Audience.PUBLIC})

    def is_configured(self) -> bool:
        return settings.BLUESKY_CONFIGURED

    def not_configured_reason(self) -> str:
        return "" if self.is_configured() else NOT_CONFIGURED

    def recipients(self, message):
        yield Recipient(address=BLUESKY_RECIPIENT)

    def send(self, delivery) -> str:
        if not self.is_configured():
            raise TransportError(NOT_CONFIGURED, permanent=True)
        if not delivery.in_reply_to:
            wait_for_earlier_post(delivery)  # a thread in order, also when retries after an outage
        client = bluesky_client()
        try:
            if delivery.in_reply_to:  # a support reply to a customer's post (its at:// URI)
                text, reply = delivery.body, reply_to_post(client, delivery.in_reply_to)
            else:
                text, reply = render_bluesky_post(delivery.message), reply_refs(delivery)
            return create_post(client, text, reply=reply, rkey=record_key(delivery), look_first=delivery.attempts > 1)
        finally:
            client.request.close()
