"""The cost of a recipient stays flat: one approved update fanned out to 20,000 and then to 200,000 confirmed email
subscribers through real workers into Postfix's `smtp-sink` (a C sink that accepts mail as fast as the machine
allows, so the sink is not what is measured), against a plain smtplib loop over one connection into the same kind
of sink, same run.

Per size: messages per second from publish to the last one received, the time to create the delivery rows (the
fan-out: dispatch until `fanned_out_at`), the peak memory of every worker process, what the sink received, and how
long the web request that publishes takes (the fan-out runs in workers: the web process never waits for it).

Then the same for webhook-style subscribers: one update to 20,000 confirmed generic-webhook endpoints (the
"subscriber_hooks" channel, signed JSON through the outbound guard) posting into nginx answering `204` (C; it only
logs a line per request, which is how the received count is read), against a plain `httpx.Client` loop posting the
same pre-built JSON bodies to the same kind of nginx, same run."""

import json
import os
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.common import free_port, measured_worker, progress, wait_for

SIZES = tuple(int(size) for size in os.environ.get("BENCH_SCALE_SIZES", "20000,200000").split(","))
WORKER_CONCURRENCY = int(os.environ.get("BENCH_WORKER_CONCURRENCY", 4))
# The plain loop's rate is measured over this many messages (it does not depend on N).
PLAIN_SAMPLE = int(os.environ.get("BENCH_SCALE_PLAIN", 20_000))
HOOK_ENDPOINTS = int(os.environ.get("BENCH_SCALE_HOOKS", 20_000))  # webhook-style subscribers; 0 leaves them out
COUNTER = re.compile(rb"mesg=(\d+)")


class PostfixSink:
    """`smtp-sink -c` on a free port; `received` reads its running message counter."""

    def __init__(self, log_dir: Path):
        binary = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
        if not Path(binary).exists():
            sys.exit("The scale benchmark needs Postfix's smtp-sink: apt-get install postfix.")
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.host = "127.0.0.1"
        self.out = log_dir / f"smtp-sink-{self.port}.out"
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        self.process = subprocess.Popen([binary, "-c", *user, f"{self.host}:{self.port}", "1024"],
                                        stdout=self.out.open("wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with smtplib.SMTP(self.host, self.port, timeout=1) as smtp:
                    smtp.noop()
                self.base = self.received  # the probe's session counts nothing, but be safe
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("smtp-sink did not start")

    @property
    def received(self) -> int:
        counts = COUNTER.findall(self.out.read_bytes()[-400:])
        return int(counts[-1]) if counts else 0

    def close(self):
        self.process.terminate()
        self.process.wait(timeout=10)


NGINX_HOOKS_CONF = """
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    log_format received '$status';
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    client_body_temp_path {prefix}/tmp;
    proxy_temp_path {prefix}/tmp;
    fastcgi_temp_path {prefix}/tmp;
    uwsgi_temp_path {prefix}/tmp;
    scgi_temp_path {prefix}/tmp;
    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        location /hook/ {{
            access_log {prefix}/received.log received;
            return 204;
        }}
        location / {{ return 404; }}
    }}
}}
"""


class NginxHookSink:
    """nginx (one worker) answering every POST to /hook/… with 204 and a line in its access log; `received` counts
    the 204 lines."""

    def __init__(self, var_dir: Path, name: str):
        if not shutil.which("nginx"):
            sys.exit("The scale benchmark's webhook run needs nginx: apt-get install nginx (or nginx-light).")
        self.prefix = var_dir / f"nginx-{name}"
        (self.prefix / "tmp").mkdir(parents=True, exist_ok=True)
        self.log = self.prefix / "received.log"
        self.log.write_bytes(b"")
        self.port, self.host = free_port(), "127.0.0.1"
        self.url = f"http://{self.host}:{self.port}"
        conf = self.prefix / "nginx.conf"
        conf.write_text(NGINX_HOOKS_CONF.format(prefix=self.prefix, port=self.port))
        check = subprocess.run(["nginx", "-t", "-q", "-p", str(self.prefix), "-c", str(conf)], capture_output=True,
                               text=True)
        if check.returncode:
            raise RuntimeError(f"nginx refused the benchmark configuration:\n{check.stderr}")
        self.process = subprocess.Popen(["nginx", "-p", str(self.prefix), "-c", str(conf), "-g", "daemon off;"],
                                        stdout=subprocess.DEVNULL, stderr=(self.prefix / "stderr.log").open("w"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"nginx did not start; see {self.prefix}/error.log")

    @property
    def received(self) -> int:
        return self.log.read_bytes().count(b"204\n")

    def close(self):
        self.process.send_signal(signal.SIGQUIT)  # graceful: the master stops its worker
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def seed_subscribers(total: int) -> None:
    """Confirmed subscribers up to `total` (adding to those there are)."""
    from django.utils import timezone

    from comms.models import Subscriber

    have = Subscriber.objects.count()
    now, started = timezone.now(), time.monotonic()
    for start in range(have, total, 10_000):
        Subscriber.objects.bulk_create([Subscriber(email=f"subscriber{n}@scale.example", confirmed_at=now)
                                        for n in range(start, min(start + 10_000, total))])
        progress("subscribers", min(start + 10_000, total), total, started)
    sys.stderr.write("\n")


def seed_endpoints(total: int, base_url: str) -> None:
    """`total` confirmed generic-webhook endpoints, each its own URL under the sink's /hook/ (URLs are unique)."""
    from django.utils import timezone

    from comms.models import SubscriberEndpoint

    SubscriberEndpoint.objects.all().delete()
    now, started = timezone.now(), time.monotonic()
    for start in range(0, total, 5_000):
        SubscriberEndpoint.objects.bulk_create([
            SubscriberEndpoint(kind=SubscriberEndpoint.Kind.WEBHOOK, url=f"{base_url}/hook/{n}", requested_at=now,
                               confirmed_at=now)
            for n in range(start, min(start + 5_000, total))
        ])
        progress("webhook endpoints", min(start + 5_000, total), total, started)
    sys.stderr.write("\n")


def new_message(author, incident, channel: str = "email"):
    from django.utils import timezone

    from comms.choices import MessageState
    from comms.models import Message

    return Message.objects.create(
        incident=incident, author=author, approver=author, headline="Card payments are failing for some customers",
        explain="Some card payments in the EU fail at checkout. Our engineers are working on a fix.",
        acknowledge="We know this stops you from taking orders, and we are sorry.",
        channels=[channel], state=MessageState.APPROVED, approved_at=timezone.now(),
    )


def publish_through_the_web(message, lead) -> float:
    """The lead's POST that sends it now, through the page (in-process client): how long the request takes."""
    from django.test import Client

    client = Client()
    client.force_login(lead)
    started = time.perf_counter()
    response = client.post(f"/messages/{message.pk}/publish/")
    seconds = time.perf_counter() - started
    message.refresh_from_db()
    assert response.status_code == 302 and message.scheduled_for, (response.status_code, message.state)
    return seconds


def run_size(size: int, author, incident, var_dir: Path) -> dict:
    seed_subscribers(size)
    message = new_message(author, incident)
    sink = PostfixSink(var_dir)
    os.environ.update({"EMAIL_HOST": sink.host, "EMAIL_PORT": str(sink.port), "EMAIL_USE_TLS": "false"})
    return publish_and_wait(message, author, sink, size, f"{size:,}", var_dir / f"worker-{size}.log")


def publish_and_wait(message, author, sink, size: int, label: str, log_path: Path) -> dict:
    """Publish through the page, dispatch as beat does, and wait (under sampled workers) until the message is done."""
    from comms.choices import MessageState
    from comms.delivery import dispatch_due_messages
    from comms.models import Message

    try:
        with measured_worker(WORKER_CONCURRENCY, log_path) as sampler:
            started = time.monotonic()
            publish_seconds = publish_through_the_web(message, author)
            dispatch_due_messages()  # what beat does within seconds (publishing also asks a worker): claim, fan out

            def finished() -> bool:
                progress(label, sink.received, size, started)
                state = Message.objects.values_list("state", flat=True).get(pk=message.pk)
                return state not in (MessageState.SCHEDULED, MessageState.SENDING)

            wait_for(finished, "fan-out", timeout=3600, interval=0.5)
            seconds = time.monotonic() - started
        sys.stderr.write("\n")
        row = Message.objects.values("state", "dispatched_at", "fanned_out_at").get(pk=message.pk)
        received = sink.received
    finally:
        sink.close()
    fan_out = (row["fanned_out_at"] - row["dispatched_at"]).total_seconds() if row["fanned_out_at"] else None
    return {"size": size, "seconds": seconds, "rate": size / seconds, "received": received, "state": row["state"],
            "fan_out_seconds": fan_out, "publish_ms": publish_seconds * 1000,
            "peak_rss": sampler.peak_total, "peak_rss_single": sampler.peak_single}


def run_plain(var_dir: Path, count: int) -> dict:
    """smtplib over one connection into smtp-sink: `count` pre-built messages of the same shape."""
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["Subject"] = "status@example.com", "Card payments are failing for some customers"
    message.set_content("Some card payments in the EU fail at checkout. " * 8)
    message.add_alternative("<p>Some card payments in the EU fail at checkout.</p>" * 8, subtype="html")
    from email import policy

    payload = message.as_bytes(policy=policy.SMTP)
    sink = PostfixSink(var_dir)
    try:
        started = time.monotonic()
        with smtplib.SMTP(sink.host, sink.port) as smtp:
            for n in range(count):
                smtp.sendmail("status@example.com", [f"plain{n}@scale.example"], payload)
                if n % 2000 == 0:
                    progress("smtplib", n, count, started)
        seconds = time.monotonic() - started
        sys.stderr.write("\n")
        time.sleep(0.3)
        received = sink.received
    finally:
        sink.close()
    return {"seconds": seconds, "rate": count / seconds, "received": received, "size": count}


def run_hooks(count: int, author, incident, var_dir: Path) -> dict:
    """One update to `count` confirmed generic-webhook subscribers, through the workers and the outbound guard, into
    nginx; the endpoints' http://127.0.0.1 URLs are let through by OUTBOUND_ALLOW_HTTP and OUTBOUND_ALLOWED_HOSTS,
    set for the worker processes only (as `make run` sets them for local fakes)."""
    sink = NginxHookSink(var_dir, "hooks")
    try:
        seed_endpoints(count, sink.url)
    except BaseException:
        sink.close()
        raise
    message = new_message(author, incident, channel="subscriber_hooks")
    plain_requests = hook_requests(message.pk)
    plain_before = run_plain_httpx(var_dir, plain_requests)
    allowed = {"OUTBOUND_ALLOW_HTTP": "true", "OUTBOUND_ALLOWED_HOSTS": sink.host}
    before = {key: os.environ.get(key) for key in allowed}
    os.environ.update(allowed)
    try:
        run = publish_and_wait(message, author, sink, count, f"webhooks {count:,}", var_dir / "worker-hooks.log")
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    run["message"] = message.pk
    run["plain"] = either_side(plain_before, run_plain_httpx(var_dir, plain_requests))
    return run


def either_side(before: dict, after: dict) -> dict:
    """The plain loop measured just before ours and just after, as one baseline: their mean rate. This machine's
    speed drifts by a third over a minute (docs/benchmarks.md), and a baseline taken on one side only measured the
    drift as often as the code (the webhook ratio was 0.60 and 0.96 in two runs ten minutes apart)."""
    rate = (before["rate"] + after["rate"]) / 2
    return {**after, "rate": rate, "rates": [before["rate"], after["rate"]], "seconds": after["size"] / rate,
            "received": min(before["received"], after["received"])}


def hook_requests(message_id: int) -> list[tuple[str, bytes, dict]]:
    """(path, body, headers) of each endpoint's POST as the channel builds it: the same JSON (the message and the
    endpoint's unsubscribe link), signature and headers. Built before the plain loop is timed."""
    from comms.channels.webhook import SIGNATURE_HEADER, sign
    from comms.endpoints import subscriptions
    from comms.endpoints.kinds import kind_of
    from comms.models import Message, SubscriberEndpoint

    message = Message.objects.select_related("incident").get(pk=message_id)
    kind = kind_of(SubscriberEndpoint.Kind.WEBHOOK)
    requests = []
    for endpoint in SubscriberEndpoint.objects.order_by("pk").iterator(2000):
        body = json.dumps(kind.message_payload(message, subscriptions.unsubscribe_url(endpoint)),
                          separators=(",", ":"), sort_keys=True).encode()
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(endpoint.secret, body),
                   "X-EARS-Event": "message.published", "X-EARS-Delivery": f"plain-{endpoint.pk}"}
        requests.append((urlsplit(endpoint.url).path, body, headers))
    return requests


def run_plain_httpx(var_dir: Path, requests: list[tuple[str, bytes, dict]]) -> dict:
    """A plain httpx.Client (one keep-alive connection) posting the same bodies, one after another, into nginx."""
    import httpx

    sink = NginxHookSink(var_dir, "plain")
    count = len(requests)
    try:
        started = time.monotonic()
        with httpx.Client(base_url=sink.url, timeout=10) as client:
            for n, (path, body, headers) in enumerate(requests, 1):
                response = client.post(path, content=body, headers=headers)
                response.raise_for_status()
                if n % 2000 == 0:
                    progress("httpx", n, count, started)
        seconds = time.monotonic() - started
        sys.stderr.write("\n")
        time.sleep(0.3)
        received = sink.received
    finally:
        sink.close()
    return {"seconds": seconds, "rate": count / seconds, "received": received, "size": count}


def main(var_dir: Path) -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from core.roles import COMMS_LEAD
    from incidents import services

    author, _ = get_user_model().objects.get_or_create(username="scale-lead", defaults={"email": "lead@example.com"})
    author.groups.add(Group.objects.get(name=COMMS_LEAD))
    incident = services.create_incident(actor=author, title="Card payments failing in the EU", severity="SEV1")
    sys.stderr.write(f"fan-out scale: {', '.join(f'{size:,}' for size in SIZES)} email subscribers\n")
    plain_before = run_plain(var_dir, PLAIN_SAMPLE)
    runs = [run_size(size, author, incident, var_dir) for size in SIZES]
    plain = either_side(plain_before, run_plain(var_dir, PLAIN_SAMPLE))
    hooks = None
    if HOOK_ENDPOINTS:
        sys.stderr.write(f"fan-out scale: {HOOK_ENDPOINTS:,} webhook subscribers into nginx\n")
        ours = run_hooks(HOOK_ENDPOINTS, author, incident, var_dir)
        hooks = {"ours": ours, "plain": ours.pop("plain")}
        hooks["ratio"] = ours["rate"] / hooks["plain"]["rate"]
    mib = 2**20
    first, last = runs[0], runs[-1]
    result = {"runs": runs, "plain": plain, "hooks": hooks, "worker_concurrency": WORKER_CONCURRENCY,
              "ratio": last["rate"] / first["rate"]}
    lines = [
        f"fan-out scale: {first['size']:,} at {first['rate']:,.0f} msg/s, {last['size']:,} at {last['rate']:,.0f} "
        f"msg/s, ratio {result['ratio']:.2f}, peak worker memory {first['peak_rss'] / mib:,.0f} → "
        f"{last['peak_rss'] / mib:,.0f} MiB, received {last['received']}/{last['size']}"
    ]
    if hooks:
        ours = hooks["ours"]
        lines.append(
            f"fan-out webhooks: {ours['size']:,} at {ours['rate']:,.0f} msg/s, plain httpx "
            f"{hooks['plain']['rate']:,.0f} msg/s, ratio {hooks['ratio']:.2f}, peak worker memory "
            f"{ours['peak_rss'] / mib:,.0f} MiB, received {ours['received']}/{ours['size']}"
        )
    result["summary_lines"] = lines
    result["summary"] = "\n".join(lines)
    return result
