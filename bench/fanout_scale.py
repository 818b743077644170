"""The cost of a recipient stays flat: one approved update fanned out to 20,000 and then to 200,000 confirmed email
subscribers through real workers into Postfix's `smtp-sink` (a C sink that accepts mail as fast as the machine
allows, so the sink is not what is measured), against a plain smtplib loop over one connection into the same kind
of sink, same run.

Per size: messages per second from publish to the last one received, the time to create the delivery rows (the
fan-out: dispatch until `fanned_out_at`), the peak memory of every worker process, what the sink received, and how
long the web request that publishes takes (the fan-out runs in workers: the web process never waits for it)."""

import os
import re
import shutil
import smtplib
import subprocess
import sys
import time
from pathlib import Path

from bench.common import measured_worker, progress, wait_for

SIZES = tuple(int(size) for size in os.environ.get("BENCH_SCALE_SIZES", "20000,200000").split(","))
WORKER_CONCURRENCY = int(os.environ.get("BENCH_WORKER_CONCURRENCY", 4))
PLAIN_SAMPLE = 20_000  # the plain loop's rate is measured over this many messages (it does not depend on N)
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


def new_message(author, incident):
    from django.utils import timezone

    from comms.choices import MessageState
    from comms.models import Message

    return Message.objects.create(
        incident=incident, author=author, approver=author, headline="Card payments are failing for some customers",
        explain="Some card payments in the EU fail at checkout. Our engineers are working on a fix.",
        acknowledge="We know this stops you from taking orders, and we are sorry.",
        channels=["email"], state=MessageState.APPROVED, approved_at=timezone.now(),
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
    from comms.choices import MessageState
    from comms.delivery import dispatch_due_messages
    from comms.models import Message

    seed_subscribers(size)
    message = new_message(author, incident)
    sink = PostfixSink(var_dir)
    os.environ.update({"EMAIL_HOST": sink.host, "EMAIL_PORT": str(sink.port), "EMAIL_USE_TLS": "false"})
    try:
        with measured_worker(WORKER_CONCURRENCY, var_dir / f"worker-{size}.log") as sampler:
            started = time.monotonic()
            publish_seconds = publish_through_the_web(message, author)
            dispatch_due_messages()  # what beat does within seconds (publishing also asks a worker): claim, fan out

            def finished() -> bool:
                progress(f"{size:,}", sink.received, size, started)
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
    return {"seconds": seconds, "rate": count / seconds, "received": received}


def main(var_dir: Path) -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from core.roles import COMMS_LEAD
    from incidents import services

    author, _ = get_user_model().objects.get_or_create(username="scale-lead", defaults={"email": "lead@example.com"})
    author.groups.add(Group.objects.get(name=COMMS_LEAD))
    incident = services.create_incident(actor=author, title="Card payments failing in the EU", severity="SEV1")
    sys.stderr.write(f"fan-out scale: {', '.join(f'{size:,}' for size in SIZES)} email subscribers\n")
    runs = [run_size(size, author, incident, var_dir) for size in SIZES]
    plain = run_plain(var_dir, PLAIN_SAMPLE)
    mib = 2**20
    first, last = runs[0], runs[-1]
    result = {"runs": runs, "plain": plain, "worker_concurrency": WORKER_CONCURRENCY,
              "ratio": last["rate"] / first["rate"]}
    result["summary"] = (
        f"fan-out scale: {first['size']:,} at {first['rate']:,.0f} msg/s, {last['size']:,} at {last['rate']:,.0f} "
        f"msg/s, ratio {result['ratio']:.2f}, peak worker memory {first['peak_rss'] / mib:,.0f} → "
        f"{last['peak_rss'] / mib:,.0f} MiB, received {last['received']}/{last['size']}"
    )
    return result
