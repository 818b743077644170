"""The harness's machinery: a private Redis, real `celery` worker and beat processes (each in its own process
group, so `kill -9` takes the whole worker), the SMTP sink, a fake X API, seeding, waiting and exact counts.

Used by `python -m bench.resilience` (full size) and by tests/resilience (short variants); it needs a
configured Django whose database is PostgreSQL and is the one given to the child processes.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FINAL_MESSAGE_STATES = ("sent", "partially_failed", "failed")
ALL_QUEUES = "default,deliveries,ingest"  # the aliases of the three queues of CELERY_QUEUE (config/settings.py)


class HarnessUnavailable(Exception):
    """A service the harness needs (redis-server, PostgreSQL) is not there."""


def free_port(preferred: int | None = None) -> int:
    if preferred:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as redis-server binds it
            try:
                probe.bind(("127.0.0.1", preferred))
                return preferred
            except OSError:
                pass
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- a private Redis ---------------------------------------------------------------------------------------


class PrivateRedis:
    """A redis-server of the harness's own, without persistence, so restarting it disturbs nobody else."""

    def __init__(self, work_dir: Path, port: int | None = None):
        if not shutil.which("redis-server"):
            raise HarnessUnavailable("redis-server is not installed, so the harness cannot run a Redis of its own")
        self.port = free_port(port)
        self.work_dir = work_dir
        self.process = None
        self.restarts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "PrivateRedis":
        log = open(self.work_dir / f"redis-{self.port}.log", "a")
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.work_dir)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + 10
        while not self.ping():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise HarnessUnavailable(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)
        return self

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # no persistence: everything it held is gone
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def restart(self, down_for: float = 1.0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()
        self.restarts += 1


# --- worker and beat processes --------------------------------------------------------------------------


class Process:
    def __init__(self, name: str, popen: subprocess.Popen, log_path: Path):
        self.name, self.popen, self.log_path = name, popen, log_path

    @property
    def running(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """kill -9 the whole process group: the worker's main process and every pool process."""
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.popen.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class FakeX:
    """The X API v2 `POST /2/tweets`, answering from a script chosen by a tag in the post's text.

    script: tag → answers, used in order (the last one repeats): "created" (201), "rate-limited <seconds>" (429
    with x-rate-limit-reset that far ahead), "unavailable" (503), "duplicate" (403 duplicate content).
    """

    def __init__(self, script: dict[str, list[str]]):
        self.script = script
        self.requests: list[dict] = []  # {"tag", "at" (time.time()), "status", "reset"}
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def requests_for(self, tag: str) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if r["tag"] == tag]

    def answer(self, text: str) -> tuple[int, dict, dict]:
        """(status, headers, JSON body) for a post with this text; the request is recorded."""
        tag = next((t for t in self.script if t in text), "")
        with self.lock:
            seen = sum(1 for r in self.requests if r["tag"] == tag)
            plan = self.script.get(tag, ["created"])
            step = plan[min(seen, len(plan) - 1)]
            reset = None
            if step == "created":
                status, headers, body = 201, {}, {"data": {"id": str(1_900_000_000_000 + len(self.requests)),
                                                           "text": text}}
            elif step.startswith("rate-limited"):
                reset = int(time.time()) + int(step.split()[1])
                status, headers = 429, {"x-rate-limit-reset": str(reset), "x-rate-limit-remaining": "0"}
                body = {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429}
            elif step == "unavailable":
                status, headers, body = 503, {}, {"title": "Service Unavailable", "status": 503}
            elif step == "duplicate":
                status, headers = 403, {}
                body = {"detail": "You are not allowed to create a Tweet with duplicate content.", "status": 403,
                        "title": "Forbidden", "type": "about:blank"}
            else:
                raise ValueError(step)
            self.requests.append({"tag": tag, "at": time.time(), "status": status, "reset": reset})
        return status, headers, body

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                payload = json.loads(self.rfile.read(length) or b"{}")
                status, headers, body = fake.answer(payload.get("text", ""))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler


# --- counts ----------------------------------------------------------------------------------------------


@dataclass
class Counts:
    """What happened to one message on one channel, from the database and from what the far side received."""

    rows: int = 0  # delivery rows (one per recipient)
    sent: int = 0  # rows recorded sent
    received: int = 0  # rows the far side received at least once
    lost: int = 0  # rows that should have arrived (not expected to fail) and never did
    duplicated: int = 0  # copies received beyond the first
    failed: int = 0  # rows recorded failed
    stuck: int = 0  # rows still queued or sending when the scenario ended
    skipped: int = 0
    retried: int = 0  # rows that needed more than one attempt
    errors: Counter = field(default_factory=Counter)  # last_error of failed rows → how many
    duplicated_rows: list = field(default_factory=list)  # ids of the rows received more than once

    def line(self) -> str:
        return (f"sent {self.sent:,} · lost {self.lost:,} · duplicated {self.duplicated:,} · failed {self.failed:,} "
                f"· stuck {self.stuck:,}")


def email_counts(message_id: int, received_ids: Counter, must_fail: set[str] = frozenset()) -> Counts:
    """Counts for a message's email deliveries; received_ids: Message-ID (code@ears.local) → copies."""
    from comms.models import Delivery

    counts = Counts()
    rows = Delivery.objects.filter(message_id=message_id, channel="email").values_list(
        "pk", "code", "recipient", "status", "attempts", "last_error")
    for pk, code, recipient, status, attempts, last_error in rows.iterator(5000):
        copies = received_ids.get(f"{code}@ears.local", 0)
        _tally(counts, status, attempts, last_error, copies, expected=recipient not in must_fail)
        if copies > 1:
            counts.duplicated_rows.append(pk)
    return counts


def x_counts(message_id: int, requests_answered_created: int) -> Counts:
    from comms.models import Delivery

    counts = Counts()
    for status, attempts, last_error in Delivery.objects.filter(message_id=message_id, channel="x").values_list(
            "status", "attempts", "last_error"):
        _tally(counts, status, attempts, last_error, requests_answered_created, expected=status != "failed")
    return counts


def endpoint_counts(message_id: int, accepted: Counter, path_of: dict[int, str], dead: set[str]) -> Counts:
    """Counts for a message's subscriber_hooks deliveries; accepted: URL path → copies the endpoint accepted,
    path_of: endpoint id → its URL's path; dead: paths expected to fail."""
    from comms.channels.subscriber_hooks import endpoint_id_of
    from comms.models import Delivery

    counts = Counts()
    rows = Delivery.objects.filter(message_id=message_id, channel="subscriber_hooks").values_list(
        "pk", "recipient", "status", "attempts", "last_error")
    for pk, recipient, status, attempts, last_error in rows.iterator(5000):
        path = path_of.get(endpoint_id_of(recipient), "")
        copies = accepted.get(path, 0)
        _tally(counts, status, attempts, last_error, copies, expected=path not in dead)
        if copies > 1:
            counts.duplicated_rows.append(pk)
    return counts


def _tally(counts: Counts, status, attempts, last_error, copies: int, expected: bool) -> None:
    counts.rows += 1
    counts.sent += status == "sent"
    counts.failed += status == "failed"
    counts.skipped += status == "skipped"
    counts.stuck += status in ("queued", "sending")
    counts.retried += attempts > 1
    counts.received += copies > 0
    counts.duplicated += max(copies - 1, 0)
    counts.lost += expected and copies == 0
    if status == "failed":
        counts.errors[last_error] += 1


# --- the harness -----------------------------------------------------------------------------------------


class Harness:
    """One scenario's world: a queue of its own on the private Redis, its processes, its sink and fake X."""

    def __init__(self, database_url: str, work_dir: Path, redis: PrivateRedis, *, concurrency: int = 4,
                 sweep_seconds: float | None = None, delivery_timings: str | None = None,
                 email_batch_size: int | None = None, sink_delay: float = 0.0):
        self.database_url, self.work_dir, self.redis = database_url, work_dir, redis
        self.concurrency, self.sweep_seconds, self.email_batch_size = concurrency, sweep_seconds, email_batch_size
        self.delivery_timings, self.sink_delay = delivery_timings, sink_delay
        self.queue = f"resilience-{uuid.uuid4().hex[:8]}"
        self.processes: list[Process] = []
        self.sink = None
        self.fake_x: FakeX | None = None
        self.extra_env: dict[str, str] = {}

    # processes

    def env(self) -> dict:
        env = {
            **os.environ, "DATABASE_URL": self.database_url, "REDIS_URL": self.redis.url,
            "CELERY_QUEUE": self.queue, "VAR_DIR": str(self.work_dir), "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "config.settings", "LOG_LEVEL": "WARNING",
        }
        if self.sink is not None:
            env.update({"EMAIL_HOST": self.sink.host, "EMAIL_PORT": str(self.sink.port), "EMAIL_USE_TLS": "false",
                        "EMAIL_TIMEOUT": "10"})
        if self.fake_x is not None:
            env.update({name: f"fake-{name.lower()}" for name in
                        ("X_API_KEY", "X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET")})
            env["RESILIENCE_X_BASE_URL"] = self.fake_x.base_url
        if self.sweep_seconds:
            env["RESILIENCE_SWEEP_SECONDS"] = str(self.sweep_seconds)
        if self.delivery_timings:
            env["RESILIENCE_DELIVERY_TIMINGS"] = self.delivery_timings
        if self.email_batch_size:
            env["EMAIL_BATCH_SIZE"] = str(self.email_batch_size)
        env.update(self.extra_env)
        return env

    def _spawn(self, name: str, args: list[str], module: str = "bench.resilience.launch",
               env: dict | None = None, nice: int = 0) -> Process:
        log_path = self.work_dir / f"{self.queue}-{name}.log"
        log = open(log_path, "w")
        command = [sys.executable, "-m", module, *args]
        popen = subprocess.Popen(["nice", "-n", str(nice), *command] if nice else command, cwd=ROOT,
                                 env={**self.env(), **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
                                 start_new_session=True)
        log.close()
        if nice:
            lower_session_priority(popen.pid, nice)
        process = Process(name, popen, log_path)
        self.processes.append(process)
        return process

    def start(self, workers: int = 1, beats: int = 1) -> list[Process]:
        """Start beat(s) and worker(s) together; return the workers once they are ready."""
        for _ in range(beats):
            self.start_beat()
        started = [self.start_worker(wait=False) for _ in range(workers)]
        for worker in started:
            self.wait_until_ready(worker)
        return started

    def start_worker(self, concurrency: int | None = None, wait: bool = True, queues: str = ALL_QUEUES,
                     nice: int = 0) -> Process:
        """A worker on this harness's queues: all three by default, or some, by their aliases (as in the Procfile:
        "deliveries" alone, "default,ingest"); `nice`: its CPU priority lowered by that much (lower_session_priority).
        """
        name = f"worker{sum(p.name.startswith('worker') for p in self.processes) + 1}"
        process = self._spawn(name, [
            "worker", "--queues", queues, "--hostname", f"{name}-{self.queue}@resilience",
            "--concurrency", str(concurrency or self.concurrency), "--loglevel", "INFO",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ], nice=nice)
        if wait:
            self.wait_until_ready(process)
        return process

    @staticmethod
    def wait_until_ready(process: Process, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while " ready." not in process.log():
            if not process.running or time.monotonic() > deadline:
                raise RuntimeError(f"{process.name} did not start:\n{process.log()[-3000:]}")
            time.sleep(0.1)

    def start_beat(self) -> Process:
        name = f"beat{sum(p.name.startswith('beat') for p in self.processes) + 1}"
        schedule = str(self.work_dir / f"{self.queue}-{name}")
        return self._spawn(name, ["beat", "--loglevel", "INFO", "--schedule", schedule])

    def start_flood(self, mentions: int, processes: int = 2) -> list[Process]:
        """Processes posting `mentions` mentions in all to the bulk ingest API (bench/resilience/flood.py), side by
        side as several tools (or web processes) would, whose scoring tasks go to this harness's ingest queue. The
        API's rates are lifted: a flood comes from many tools."""
        started = []
        for share in range(processes):
            name = f"flood{sum(p.name.startswith('flood') for p in self.processes) + 1}"
            count = mentions // processes + (share < mentions % processes)
            started.append(self._spawn(
                name, [str(count), "--prefix", f"{self.queue}-{name}"], module="bench.resilience.flood",
                env={"ALLOWED_HOSTS": "localhost", "API_RATE_INGEST": "1000000/minute",
                     "API_RATE_PER_TOKEN": "1000000/minute", "API_RATE_PER_IP": "1000000/minute"}))
        return started

    def publish(self, message, actor) -> None:
        """messaging.publish (the Publish button) in a process of this harness's deployment, so that the dispatch it
        enqueues on commit goes to its broker and its deliveries queue; returns once it has committed."""
        code = ("from django.contrib.auth import get_user_model; from comms import messaging; "
                "from comms.models import Message; "
                f"messaging.publish(Message.objects.get(pk={message.pk}), "
                f"actor=get_user_model().objects.get(pk={actor.pk}))")
        done = subprocess.run([sys.executable, "manage.py", "shell", "--no-imports", "-c", code], cwd=ROOT,
                              env=self.env(), capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"publishing message {message.pk} failed:\n{done.stdout}{done.stderr}")

    def close(self, graceful: bool = True) -> None:
        """Stop every process: SIGTERM to each (a warm shutdown, as an operator would), together, and kill -9 of
        its group after 20 s; or at once (graceful=False)."""
        if not graceful:
            for process in self.processes:
                process.kill()
            return
        started = time.monotonic()
        for process in self.processes:
            if process.running:
                process.popen.terminate()
        for process in self.processes:
            try:
                process.popen.wait(timeout=max(20 - (time.monotonic() - started), 0.1))
            except subprocess.TimeoutExpired:
                pass
            process.kill()  # the group: any pool process left behind

    def tracebacks(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.log()[-4000:]}" for p in self.processes if "Traceback" in p.log())

    def open_sink(self):
        """The SMTP sink the worker processes started from now on send to (use it as a context manager)."""
        import logging

        from tests.smtp_sink import SmtpSink

        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command at INFO
        self.sink = SmtpSink()
        self.sink.handler.keep_messages = False
        self.sink.handler.delay = self.sink_delay
        return self.sink

    # data

    def message(self, incident, headline: str, channels=("email",), **fields):
        """An approved message on the incident, scheduled a day ahead (release() makes it due)."""
        from django.utils import timezone

        from comms.choices import MessageState
        from comms.models import Message

        return Message.objects.create(
            incident=incident, author=incident.created_by, approver=incident.created_by, headline=headline,
            explain=fields.pop("explain", "Some card payments in the EU fail at checkout. Engineers are on it."),
            acknowledge="We know this stops you from taking orders, and we are sorry.",
            channels=list(channels), state=MessageState.SCHEDULED,
            scheduled_for=timezone.now() + timezone.timedelta(days=1), **fields,
        )

    @staticmethod
    def release(*messages, at=None) -> None:
        """Make the messages due: beat's dispatcher (every 3 s) sends them as it would any scheduled message."""
        from django.utils import timezone

        from comms.models import Message

        Message.objects.filter(pk__in=[m.pk for m in messages]).update(scheduled_for=at or timezone.now())

    # waiting and watching

    def wait(self, messages, timeout: float, watch=None, interval: float = 0.25) -> "Watch":
        """Wait until every message has finished (sent, partially failed, failed) or the timeout passes.

        Meanwhile it records the longest any delivery of theirs stayed claimed (`sending`)."""
        from django.db import close_old_connections

        watch = watch or Watch()
        ids = [m.pk for m in messages]
        deadline = time.monotonic() + timeout
        while True:
            close_old_connections()
            watch.sample(ids)
            if watch.finished(ids) or time.monotonic() > deadline:
                return watch
            time.sleep(interval)


class Watch:
    """Samples the deliveries of some messages while a scenario runs."""

    def __init__(self):
        self.started = time.monotonic()
        self.longest_sending = 0.0  # seconds: the oldest claim seen while it was still `sending`
        self.done_at: float | None = None

    def sample(self, message_ids) -> None:
        from django.db.models import Min
        from django.utils import timezone

        from comms.models import Delivery

        oldest = Delivery.objects.filter(message_id__in=message_ids, status="sending").aggregate(
            oldest=Min("claimed_at"))["oldest"]
        if oldest is not None:
            self.longest_sending = max(self.longest_sending, (timezone.now() - oldest).total_seconds())

    def finished(self, message_ids) -> bool:
        from comms.models import Message

        states = list(Message.objects.filter(pk__in=message_ids).values_list("state", flat=True))
        done = all(state in FINAL_MESSAGE_STATES for state in states)
        if done and self.done_at is None:
            self.done_at = time.monotonic()
        return done

    @property
    def seconds(self) -> float:
        return (self.done_at or time.monotonic()) - self.started


def lower_session_priority(pid: int, nice: int) -> None:
    """Lower the CPU priority of a process started in a session of its own, against every other process.

    `nice -n` alone does not: where the kernel groups processes by session for scheduling (Linux's autogroup, on by
    default in most distributions), niceness counts only inside the session, and sessions share the CPU equally.
    The session's own niceness (/proc/PID/autogroup) is what counts between them, as a cgroup's CPU weight would."""
    try:
        Path(f"/proc/{pid}/autogroup").write_text(f"{nice}\n")
    except OSError:  # no autogroup (other systems, or turned off): `nice -n` is enough there
        pass


def terminate_database_sessions() -> int:
    """End every other session on this database (the workers'), as a failover or a restarted pooler would."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        return cursor.fetchone()[0]


def wait_for(predicate, timeout: float, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()
