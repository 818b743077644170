"""Local fakes of the HTTP APIs the channels and sources talk to: a threaded http.server on 127.0.0.1 on a free
port, answering the documented request and response shapes. No test ever reaches a real host.

Each fake records what crossed it (`requests`) and can be told to fail the next calls of a path
(`fail_next("/api/v1/statuses", 503, times=2)`) before answering normally again.
"""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: object


@dataclass
class Failure:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict = field(default_factory=dict)
    times: int = 1


class Text(str):
    """A route's answer sent as text/plain rather than JSON."""


@dataclass
class EventStream:
    """A route's answer sent as server-sent events (text/event-stream): a heartbeat comment, each (event, data)
    with its data as JSON, then — once `hold` is set, or after 10 seconds — the connection closed."""

    events: list[tuple[str, object]]
    hold: threading.Event | None = None


class Answer(Exception):
    """Raised by a route to answer with this status and JSON body."""

    def __init__(self, status: int, body: dict, headers: dict | None = None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


class FakeServer:
    """Subclasses define `route(method, path, query, headers, body) -> (status, body[, headers])`."""

    def __init__(self):
        self.requests: list[Seen] = []
        self.failures: dict[str, list[Failure]] = {}
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _handle(self, method):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                content_type = self.headers.get("Content-Type", "")
                if "json" in content_type and raw:
                    body = json.loads(raw)
                elif raw:
                    body = {key: values[-1] if len(values) == 1 else values
                            for key, values in parse_qs(raw.decode(), keep_blank_values=True).items()}
                else:
                    body = None
                query = parse_qs(parts.query, keep_blank_values=True)
                headers = {key.lower(): value for key, value in self.headers.items()}
                path = parts.path.rstrip("/") or "/"
                with fake.lock:
                    fake.requests.append(Seen(method, path, query, headers, body))
                    status, answer, extra = fake._answer(method, path, query, headers, body)
                if isinstance(answer, EventStream):
                    self._stream(answer)
                    return
                if isinstance(answer, Text):  # a plain-text answer (Slack's "ok"); None: no body (202, 204)
                    data, content_type = answer.encode(), "text/plain"
                else:
                    data, content_type = (b"" if answer is None else json.dumps(answer).encode()), "application/json"
                self.send_response(status)
                self.send_header("Content-Type", f"{content_type}; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for key, value in extra.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, answer: EventStream):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(b":)\n\n")
                for name, data in answer.events:
                    self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
                self.wfile.flush()
                if answer.hold is not None:
                    answer.hold.wait(10)
                self.close_connection = True

            def do_GET(self):  # noqa: N802
                self._handle("GET")

            def do_POST(self):  # noqa: N802
                self._handle("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _answer(self, method, path, query, headers, body):
        queued = self.failures.get(path)
        if queued:
            failure = queued[0]
            failure.times -= 1
            if failure.times <= 0:
                queued.pop(0)
            return failure.status, failure.body, failure.headers
        try:
            answer = self.route(method, path, query, headers, body)
        except Answer as answer_error:
            return answer_error.status, answer_error.body, answer_error.headers
        status, body, *rest = answer
        return status, body, (rest[0] if rest else {})

    def route(self, method, path, query, headers, body):
        raise NotImplementedError

    def fail_next(self, path: str, status: int, *, times: int = 1, headers=None, body=None) -> None:
        with self.lock:
            self.failures.setdefault(path, []).append(Failure(status, headers or {}, body or {}, times))

    def calls(self, method: str, path: str) -> list[Seen]:
        with self.lock:
            return [seen for seen in self.requests if seen.method == method and seen.path == path]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
