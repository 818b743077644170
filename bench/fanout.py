"""Fan-out of one approved update to N confirmed email subscribers, through the real worker, into a local
SMTP sink — against a plain smtplib loop sending the same N messages over one connection to the same sink."""

import os
import smtplib
import sys
import time
from pathlib import Path

from bench.common import measured_worker, progress, wait_for

SUBSCRIBERS = 20_000
WORKER_CONCURRENCY = int(os.environ.get("BENCH_WORKER_CONCURRENCY", 4))  # I/O-bound: more processes than cores


def seed(count: int):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from comms.choices import MessageState
    from comms.models import Message, Subscriber
    from incidents import services

    author, _ = get_user_model().objects.get_or_create(username="bench-lead")
    now = timezone.now()
    batch = 5000
    for start in range(0, count, batch):
        Subscriber.objects.bulk_create([
            Subscriber(email=f"subscriber{n}@bench.example", confirmed_at=now)
            for n in range(start, min(start + batch, count))
        ])
    incident = services.create_incident(actor=author, title="Card payments failing in the EU", severity="SEV1")
    message = Message.objects.create(
        incident=incident, author=author, approver=author, headline="Card payments are failing for some customers",
        explain="Some card payments in the EU fail at checkout. Our engineers are working on a fix.",
        acknowledge="We know this stops you from taking orders, and we are sorry.",
        channels=["email"], state=MessageState.SCHEDULED, scheduled_for=now + timezone.timedelta(days=1),
    )
    return message


def run_ours(message, sink, var_dir: Path) -> dict:
    from django.utils import timezone

    from comms.choices import MessageState
    from comms.delivery import dispatch_due_messages
    from comms.models import Message

    def finished() -> bool:
        progress("ours", sink.total, SUBSCRIBERS, started)
        state = Message.objects.values_list("state", flat=True).get(pk=message.pk)
        return state not in (MessageState.SCHEDULED, MessageState.SENDING)

    with measured_worker(WORKER_CONCURRENCY, var_dir / "worker.log") as sampler:
        started = time.monotonic()
        Message.objects.filter(pk=message.pk).update(scheduled_for=timezone.now())
        dispatch_due_messages()  # what beat runs every few seconds: claim, fan out, enqueue
        dispatched = time.monotonic() - started
        wait_for(finished, "fan-out")
        elapsed = time.monotonic() - started
    sys.stderr.write("\n")
    state = Message.objects.values_list("state", flat=True).get(pk=message.pk)
    return {"seconds": elapsed, "dispatch_seconds": dispatched, "received": sink.total,
            "duplicates": sink.duplicates, "state": state,
            "peak_rss": sampler.peak_total, "peak_rss_single": sampler.peak_single}


def run_smtplib(message, sink) -> dict:
    """The same messages, pre-built (not timed), sent over one connection with nothing else."""
    from comms.channels.email import EmailTransport
    from comms.models import Delivery

    transport = EmailTransport()
    deliveries = list(Delivery.objects.filter(message=message).select_related("message__incident", "subscriber"))
    payloads = []
    for delivery in deliveries:
        email = transport.build(delivery)
        payloads.append((delivery.recipient, email.message().as_bytes(linesep="\r\n")))
    started = time.monotonic()
    with smtplib.SMTP(sink.host, sink.port) as smtp:
        for n, (recipient, payload) in enumerate(payloads, 1):
            smtp.sendmail("status@example.com", [recipient], payload)
            if n % 1000 == 0:
                progress("smtplib", n, len(payloads), started)
    elapsed = time.monotonic() - started
    sys.stderr.write("\n")
    return {"seconds": elapsed, "received": sink.handler.total, "duplicates": sink.handler.duplicates}


def main(var_dir: Path) -> dict:
    from tests.smtp_sink import SmtpSink

    sys.stderr.write(f"fan-out: seeding {SUBSCRIBERS:,} confirmed subscribers\n")
    message = seed(SUBSCRIBERS)
    with SmtpSink() as ours_sink:
        ours_sink.handler.keep_messages = False
        os.environ.update({"EMAIL_HOST": ours_sink.host, "EMAIL_PORT": str(ours_sink.port), "EMAIL_USE_TLS": "false"})
        ours = run_ours(message, ours_sink.handler, var_dir)
    with SmtpSink() as plain_sink:
        plain_sink.handler.keep_messages = False
        plain = run_smtplib(message, plain_sink)
    ours_rate = SUBSCRIBERS / ours["seconds"]
    plain_rate = SUBSCRIBERS / plain["seconds"]
    result = {
        "subscribers": SUBSCRIBERS,
        "worker_concurrency": WORKER_CONCURRENCY,
        "ours_rate": ours_rate,
        "plain_rate": plain_rate,
        "ratio": ours_rate / plain_rate,
        "ours": ours,
        "plain": plain,
    }
    result["summary"] = (
        f"fan-out: ours {ours_rate:,.0f} msg/s, smtplib {plain_rate:,.0f} msg/s, ratio {result['ratio']:.2f}, "
        f"received {ours['received']}/{SUBSCRIBERS}"
    )
    return result
