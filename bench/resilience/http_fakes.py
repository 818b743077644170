"""HTTP fakes the outage scenarios take down and bring back: one server standing in for every subscriber webhook
(generic, Slack and Discord URLs on 127.0.0.1) and the fake Mastodon of tests/fakes, each able to answer 503 for a
stretch and to refuse connections (its listening socket closed, then opened again on the same port).

They run in the harness's own process, on threads; the worker processes reach them over HTTP through the outbound
guard (OUTBOUND_ALLOW_HTTP and OUTBOUND_ALLOWED_HOSTS=127.0.0.1 in their environment)."""

import itertools
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from tests.fakes import Answer
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.mastodon import FakeMastodon

DEAD_ANSWER = 410  # what the endpoints that are gone for good answer (a deleted webhook)


class Listening:
    """Closing a fake's listening socket (connections are refused) and opening it again on the same port. The fake
    keeps its server in `.server` and the thread serving it in `.thread`, as tests.fakes.FakeServer does."""

    refusing = False

    def stop_listening(self) -> None:
        if not self.refusing:
            self.refusing = True
            self.server.shutdown()
            self.server.server_close()

    def listen_again(self) -> None:
        address, handler = self.server.server_address, self.server.RequestHandlerClass
        self.server = ThreadingHTTPServer(address, handler)  # allow_reuse_address: the port is free at once
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.refusing = False

    def __exit__(self, *exc):
        self.stop_listening()


class EndpointSink(Listening):
    """Subscribers' webhooks: generic ones at /hooks/<n>, Slack's at /services/T<n>/B<n>/<secret>, Discord's at
    /api/webhooks/<n>/<token>, each answered as the real one answers a post (200 "ok" for Slack, 200 and the message
    made for Discord with ?wait=true, 204 for a generic webhook); paths in `dead` answer 410 for good; while
    `unavailable`, every post is answered 503.

    Counts the copies each path accepted (one endpoint per path), with the time of each, and the 503s answered."""

    def __init__(self):
        self.lock = threading.Lock()
        self.unavailable = False
        self.dead: set[str] = set()
        self.accepted: Counter = Counter()  # path → copies accepted (2xx)
        self.accepted_at: list[float] = []  # time.time() of each copy accepted
        self.answered_unavailable = 0
        self.answered_dead = 0
        self.first_request_at: float | None = None
        self.ids = itertools.count(1_200_000_000_000_000_001)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def endpoint_url(self, kind: str, number: int) -> str:
        return self.url + {
            "webhook": f"/hooks/{number}",
            "slack": f"/services/T{number:06}/B{number:06}/secret{number}",
            "discord": f"/api/webhooks/{number}/token-{number}",
        }[kind]

    def __enter__(self):
        self.thread.start()
        return self

    @property
    def total(self) -> int:
        with self.lock:
            return sum(self.accepted.values())

    def answer(self, path: str) -> tuple[int, bytes, str]:
        """(status, body, content type) for a post to this path; an accepted one is counted."""
        with self.lock:
            if self.first_request_at is None:
                self.first_request_at = time.time()
            if self.unavailable:
                self.answered_unavailable += 1
                return 503, b"Service Unavailable", "text/plain"
            if path in self.dead:
                self.answered_dead += 1
                return DEAD_ANSWER, json.dumps({"error": "gone"}).encode(), "application/json"
            self.accepted[path] += 1
            self.accepted_at.append(time.time())
            if path.startswith("/services/"):
                return 200, b"ok", "text/plain"
            if path.startswith("/api/webhooks/"):
                return 200, json.dumps({"id": str(next(self.ids)), "type": 0}).encode(), "application/json"
            return 204, b"", "application/json"

    def _handler(self):
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, data, content_type = sink.answer(urlsplit(self.path).path)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler


class OutageMastodon(Listening, FakeMastodon):
    """tests.fakes.mastodon.FakeMastodon whose whole API answers 503 while `unavailable`. Each status it made keeps
    the Idempotency-Key it was posted with (EARS sends ears-<delivery code>), and every POST of a status is logged as
    (time.time(), status answered)."""

    def __init__(self, **options):
        super().__init__(**options)
        self.unavailable = False
        self.posts: list[tuple[float, int]] = []

    def _answer(self, method, path, query, headers, body):
        if self.unavailable:
            status, answer, extra = 503, {"error": "Service Unavailable"}, {}
        else:
            status, answer, extra = super()._answer(method, path, query, headers, body)
        if method == "POST" and path == "/api/v1/statuses":
            self.posts.append((time.time(), status))
        return status, answer, extra

    def _post(self, headers, body):
        status, made = super()._post(headers, body)
        made["idempotency_key"] = headers.get("idempotency-key", "")
        return status, made


class OutageBluesky(Listening, FakeBluesky):
    """tests.fakes.bluesky.FakeBluesky whose whole XRPC API (sessions included) answers 503 while `unavailable`;
    every createRecord is logged as (time.time(), status answered), and the time of the first request of any kind is
    kept (a post begins with signing in, which meets the outage first)."""

    def __init__(self):
        super().__init__()
        self.unavailable = False
        self.posts: list[tuple[float, int]] = []
        self.first_request_at: float | None = None

    def route(self, method, path, query, headers, body):
        self.first_request_at = self.first_request_at or time.time()
        creating = method == "POST" and path.endswith("/com.atproto.repo.createRecord")
        try:
            if self.unavailable:
                raise Answer(503, {"error": "ServiceUnavailable", "message": "Service Unavailable"})
            answer = super().route(method, path, query, headers, body)
        except Answer as refusal:
            if creating:
                self.posts.append((time.time(), refusal.status))
            raise
        if creating:
            self.posts.append((time.time(), answer[0]))
        return answer
