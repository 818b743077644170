"""Mastodon streaming: mentions of our account and hashtag searches read as they are posted, where the instance
allows it, instead of at the next poll. Keyword searches have no stream and are always polled. Run by
`manage.py stream_mastodon` (one process; docs/operations.md).

A round:

1. The streaming server (the one the instance names in configuration.urls.streaming, else the instance itself) is
   asked whether it is up: GET /api/v1/streaming/health. When it is not (switched off, 4xx, 5xx, unreachable),
   nothing is held: the beat goes on polling, and streaming is tried again after RETRY_SECONDS.
2. The streamable searches (enabled, of kind mentions or hashtag) are held: their next_poll_at is pushed LEASE ahead,
   and renewed while they stream, so the beat leaves them alone. If this process stops, the lease runs out and
   polling takes over by itself.
3. Their streams are opened over server-sent events: GET /api/v1/streaming/user/notification (one for every
   mentions search) and /api/v1/streaming/hashtag?tag=… (one per hashtag). Once a stream is connected its searches
   are polled from their cursors (what was posted while nothing streamed), and again every CATCH_UP_SECONDS: the
   polls alone move the cursors, and fill any gap the stream left. Each `notification` (of a mention) and `update`
   event is stored through ingest like a polled status (a status stored twice is a duplicate and changes nothing).
4. The round ends when a stream ends (the server closed it, a network error, a refusal) or the searches changed:
   every stream is closed, the leases are given back (the beat may poll them at once), and a new round starts after
   RECONNECT_SECONDS, or RETRY_SECONDS after a refusal.

The streams' threads only read the network; every database write is made by the thread running the round, in the
order the events arrived.

A broken or hostile server cannot make this process hold without end: a line longer than MAX_LINE_BYTES or an event
longer than MAX_EVENT_BYTES ends the stream (the round's catch-up poll reads what it carried), and at most
QUEUED_EVENTS wait for the round to store them (a faster stream is held back, not buffered). A streaming server on
another host than the instance's (the instance names it) is reached only through the outbound guard.
"""

import logging
import queue
import threading
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import quote, urlsplit

import requests
from django.conf import settings
from django.utils import timezone
from mastodon import MastodonError, StreamListener
from mastodon.errors import MastodonMalformedEventError

from comms.channels.mastodon import mastodon_client
from core.outbound import OutboundRefused, OutboundStreamSession, check_url
from sentiment.choices import Source
from sentiment.ingest import ingest
from sentiment.sources import mastodon as mastodon_source
from sentiment.sources import polling
from sentiment.sources.models import SocialSearch

log = logging.getLogger(__name__)
Kind = SocialSearch.Kind
STREAMABLE = (Kind.MENTIONS, Kind.HASHTAG)
LEASE = timedelta(minutes=3)  # how long the beat leaves a held search alone
RENEW_SECONDS = 60
CATCH_UP_SECONDS = 600  # while streaming, each search is still polled this often (cursor, gaps)
RECONNECT_SECONDS = 5.0
RETRY_SECONDS = 300.0  # after a refusal: the beat polls meanwhile
CONNECT_TIMEOUT = 15
READ_TIMEOUT = 90  # Mastodon sends a heartbeat every 15 seconds or so: silence this long is a dead stream
NOTIFICATIONS_PATH = "/api/v1/streaming/user/notification"
MAX_LINE_BYTES = 1024 * 1024  # a status's JSON is a few KiB: one line of a megabyte is a broken or hostile server
MAX_EVENT_BYTES = 1024 * 1024
QUEUED_EVENTS = 1000
_CHUNK_BYTES = 8192
HEALTH_BYTES = 64  # "OK"


@dataclass
class Round:
    """How a round ended: whether it streamed, why it stopped (or did not start), how long to wait for the next."""

    streamed: bool
    reason: str
    wait: float
    stored: int = 0


class Stream(StreamListener):
    """One server-sent events connection, read on a thread of its own; what it reads goes to the round's queue."""

    def __init__(self, url: str, search_ids: list[int], events: queue.Queue):
        self.url, self.search_ids, self.events = url, search_ids, events
        self.http = stream_session(url)  # its own: a session is not shared between threads
        self.response = None
        self.closing = False
        self.thread = threading.Thread(target=self.read, daemon=True, name=f"mastodon-stream {urlsplit(url).path}")

    def start(self) -> "Stream":
        self.thread.start()
        return self

    def read(self) -> None:
        reason, refused = "the streaming server closed the stream", False
        try:
            self.response = self.http.get(
                self.url, stream=True, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT), allow_redirects=False,
                headers={"Authorization": f"Bearer {settings.MASTODON_ACCESS_TOKEN}", "Accept": "text/event-stream"})
            with closing(self.response) as response:
                if response.status_code != 200:
                    reason, refused = f"{urlsplit(self.url).path} answered {response.status_code}", True
                    return
                self.put(("connected", self, None))
                self.handle_stream(response)
        except OutboundRefused as refusal:
            reason, refused = f"EARS does not read from the streaming server: {refusal}", True
        except (MastodonError, requests.RequestException) as error:
            reason = f"the stream failed: {error}"
        except Exception as error:  # closed from the round's thread mid-read, or a bug: the round starts again
            if not self.closing:
                log.exception("Reading the Mastodon stream %s failed", self.url)
            reason = f"the stream failed: {error!r}"
        finally:
            self.http.close()
            self.put(("ended", self, (reason, refused)))

    def close(self) -> None:
        self.closing = True
        if self.response is not None:
            self.response.close()

    def put(self, item) -> None:
        """Into the round's queue, waiting while it is full (QUEUED_EVENTS); dropped once the round closed this."""
        while not self.closing:
            try:
                self.events.put(item, timeout=1.0)
                return
            except queue.Full:
                continue

    def handle_stream(self, response) -> None:
        """Mastodon.py's reader (StreamListener.handle_stream), bounded: that one reads a byte at a time, keeps a
        line until its newline and an event until its blank line however long they grow, and joins an event's data
        lines by copying the whole so far for each. Here the body is read in chunks, and a line longer than
        MAX_LINE_BYTES or an event longer than MAX_EVENT_BYTES ends the stream."""
        line, event, size = bytearray(), {}, 0
        for chunk in response.iter_content(chunk_size=_CHUNK_BYTES):
            start = 0
            while (end := chunk.find(b"\n", start)) >= 0:
                line += chunk[start:end]
                start = end + 1
                size += len(line) + 1
                if len(line) > MAX_LINE_BYTES or size > MAX_EVENT_BYTES:
                    break
                event = self._read_line(bytes(line), event)
                size = size if event else 0
                line.clear()
            else:
                line += chunk[start:]
            if len(line) > MAX_LINE_BYTES or size > MAX_EVENT_BYTES:
                raise MastodonMalformedEventError("the streaming server sent a line or an event too long to be a "
                                                  "status (MAX_LINE_BYTES, MAX_EVENT_BYTES)")

    def _read_line(self, raw: bytes, event: dict) -> dict:
        """One line of server-sent events: a field of the event being read, a heartbeat, or the blank line that ends
        the event (dispatched, as Mastodon.py does: repeated fields joined by newlines)."""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise MastodonMalformedEventError("Malformed UTF-8") from None
        if text == "":
            self._dispatch({key: "\n".join(values) for key, values in event.items()})
            return {}
        if text.startswith(":"):
            self.handle_heartbeat()
            return event
        key, separator, value = text.partition(": ")
        if not separator:
            raise MastodonMalformedEventError("Malformed event.")
        event.setdefault(key, []).append(value)
        return event

    # StreamListener: called on this stream's thread for each event.

    def on_notification(self, notification) -> None:
        if notification.get("type") == "mention" and notification.get("status"):
            self.put(("status", self, notification["status"]))

    def on_update(self, status) -> None:
        self.put(("status", self, status))

    def on_unknown_event(self, name, unknown_event=None) -> None:
        pass  # events newer than Mastodon.py: nothing to store


@dataclass
class Held:
    """The searches a round holds, those whose stream was refused (left to the beat), and when it last polled each."""

    searches: dict[int, SocialSearch]
    refused: set[int] = field(default_factory=set)
    polled_at: dict[int, float] = field(default_factory=dict)
    renewed_at: float = 0.0


def streamable_searches() -> list[SocialSearch]:
    return list(SocialSearch.objects.filter(network=SocialSearch.Network.MASTODON, enabled=True,
                                            kind__in=STREAMABLE).order_by("pk"))


def streaming_base(client) -> str:
    """Where the streaming server is: configuration.urls.streaming of /api/v2/instance (ws(s):// read as http(s)://),
    else the instance itself."""
    try:
        url = client.instance_v2()["configuration"]["urls"]["streaming"]
    except (MastodonError, KeyError, TypeError, AttributeError):
        url = None
    if isinstance(url, str):
        parts = urlsplit(url)
        scheme = {"wss": "https", "ws": "http"}.get(parts.scheme, parts.scheme)
        if scheme in ("http", "https") and parts.netloc:
            return f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}"
    return settings.MASTODON_API_BASE_URL.rstrip("/")


def stream_session(url: str) -> requests.Session:
    """For the streaming server at url. On the instance's own host: a plain session, as the poller's (the operator
    chose that host; check_url refuses its literal addresses). On another host, which the instance's answer names:
    through the outbound guard (public addresses only, checked at every connection), like any URL from outside."""
    if _host(url) == _host(settings.MASTODON_API_BASE_URL):
        http = requests.Session()
        http.trust_env = False
        return http
    return OutboundStreamSession()


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").rstrip(".").lower()


def unhealthy(http: requests.Session, base: str) -> str:
    """Why the streaming server cannot be used, or "" when its health check says OK (of its answer, only the first
    HEALTH_BYTES are read; a redirect is not followed)."""
    try:
        response = http.get(f"{base}/api/v1/streaming/health", timeout=CONNECT_TIMEOUT, stream=True,
                            allow_redirects=False)
        with closing(response):
            body = b""
            for chunk in response.iter_content(chunk_size=HEALTH_BYTES):
                body += chunk
                if len(body) >= HEALTH_BYTES:
                    break
    except OutboundRefused as refusal:
        return f"EARS does not read from the streaming server: {refusal}"
    except requests.RequestException as error:
        return f"the streaming server could not be reached ({error.__class__.__name__})"
    if response.status_code != 200 or body.strip() not in (b"OK", b"success"):
        return f"its health check answered {response.status_code}"
    return ""


def stream_urls(base: str, searches: list[SocialSearch]) -> dict[str, list[int]]:
    """Each stream to open and the searches it serves: one for every mentions search, one per hashtag."""
    urls: dict[str, list[int]] = {}
    for search in searches:
        if search.kind == Kind.MENTIONS:
            url = f"{base}{NOTIFICATIONS_PATH}"
        else:
            url = f"{base}/api/v1/streaming/hashtag?tag={quote(search.query.lower(), safe='')}"
        urls.setdefault(url, []).append(search.pk)
    return urls


def hold(search_ids) -> None:
    """Keep the beat from polling the searches for LEASE."""
    SocialSearch.objects.filter(pk__in=search_ids).update(next_poll_at=timezone.now() + LEASE)


def release(search_ids) -> None:
    """Give the searches back to the beat: due at once."""
    SocialSearch.objects.filter(pk__in=search_ids).update(next_poll_at=timezone.now())


def stream_round(stop: threading.Event, on_idle: Callable[[], None] = lambda: None) -> Round:
    """One round (the module's docstring): returns when a stream ends, the searches change or stop is set.
    on_idle is called whenever a second passes without an event."""
    if not settings.MASTODON_CONFIGURED:
        return Round(False, mastodon_source.NOT_CONFIGURED, RETRY_SECONDS)
    searches = streamable_searches()
    if not searches:
        return Round(False, "No Mastodon search of mentions or a hashtag is enabled: nothing to stream.",
                     RETRY_SECONDS)
    http = requests.Session()  # as the poller's: a plain session, its URLs checked by the outbound guard
    http.trust_env = False
    with closing(http):
        try:
            check_url(settings.MASTODON_API_BASE_URL)
            base = streaming_base(mastodon_client(session=http))
            check_url(base)
        except OutboundRefused as refusal:
            return Round(False, f"EARS does not read from the Mastodon streaming server: {refusal}.", RETRY_SECONDS)
    with closing(stream_session(base)) as checking:
        reason = unhealthy(checking, base)
        if reason:
            return Round(False, f"Mastodon streaming is not available ({reason}): the searches are polled.",
                         RETRY_SECONDS)
    return _stream(base, searches, stop, on_idle)


def _stream(base: str, searches: list[SocialSearch], stop: threading.Event, on_idle: Callable[[], None]) -> Round:
    held = Held({search.pk: search for search in searches})
    hold(held.searches)
    held.renewed_at = time.monotonic()
    events: queue.Queue = queue.Queue(maxsize=QUEUED_EVENTS)
    streams = [Stream(url, ids, events).start() for url, ids in stream_urls(base, searches).items()]
    stored, reason, refused = 0, "stopped", False
    try:
        while not stop.is_set():
            try:
                kind, stream, payload = events.get(timeout=1.0)
            except queue.Empty:
                on_idle()
                if not _keep_holding(held):
                    reason = "the searches changed"
                    break
                continue
            if kind == "connected":
                _catch_up(held, stream.search_ids)
            elif kind == "status":
                stored += _store(payload)
            elif kind == "ended":
                if not payload[1] or len(streams) == 1:
                    reason, refused = payload
                    break
                # One stream refused (a hashtag stream wanting a scope, say): its searches go back to the beat and
                # the others stream on, until the next round tries it again.
                log.warning("Mastodon streaming: %s; its searches are polled", payload[0])
                streams.remove(stream)
                _give_back(held, stream.search_ids)
                continue
            _keep_holding(held)
    finally:
        for stream in streams:
            stream.close()
        release(held.searches)
    log.info("Mastodon streaming stopped: %s (%d mentions stored)", reason, stored)
    return Round(True, reason, RETRY_SECONDS if refused else RECONNECT_SECONDS, stored)


def _give_back(held: Held, search_ids: list[int]) -> None:
    for pk in search_ids:
        held.searches.pop(pk, None)
        held.polled_at.pop(pk, None)
        held.refused.add(pk)
    release(search_ids)


def _catch_up(held: Held, search_ids: list[int], *, due_only: bool = False) -> None:
    """Poll the searches from their cursors (all of them, or those not polled for CATCH_UP_SECONDS), holding them
    again afterwards (a poll hands the search back to the beat's interval)."""
    now = time.monotonic()
    for pk in search_ids:
        if due_only and now - held.polled_at.get(pk, now) < CATCH_UP_SECONDS:
            continue
        search = SocialSearch.objects.filter(pk=pk).first()
        if search is None:
            continue
        polling.poll_and_record(search, mastodon_source.poll)
        held.polled_at[pk] = time.monotonic()
    hold(search_ids)


def _keep_holding(held: Held) -> bool:
    """Renew the leases when due, and poll what is due for its catch-up; False when the searches changed."""
    now = time.monotonic()
    if now - held.renewed_at < RENEW_SECONDS:
        return True
    held.renewed_at = now
    if {search.pk for search in streamable_searches()} != set(held.searches) | held.refused:
        return False
    _catch_up(held, [pk for pk in held.polled_at], due_only=True)
    hold(held.searches)
    return True


def _store(status) -> int:
    if not status or status.get("reblog"):
        return 0
    try:
        [result] = ingest([mastodon_source.mention_from(status)], default_source=Source.MASTODON)
    except (KeyError, TypeError, ValueError):
        log.warning("A streamed Mastodon status could not be read: %r", status.get("id"))
        return 0
    return int(result.status == "created")


def run(stop: threading.Event, on_round: Callable[[Round], None] = lambda round_: None) -> None:
    """Stream round after round until stop is set."""
    while not stop.is_set():
        try:
            outcome = stream_round(stop)
        except Exception as error:  # a bug or an unexpected answer: the beat polls meanwhile
            log.exception("Mastodon streaming failed")
            outcome = Round(False, f"Mastodon streaming failed unexpectedly: {error!r}", RETRY_SECONDS)
        on_round(outcome)
        stop.wait(outcome.wait)
