"""Pruning 2,000,000 delivery rows: comms.retention (batches of 5,000, each summarised and deleted in its own
transaction) against the plain way in the same run — one `DELETE … WHERE message_id IN (…)` over a copy of the
same rows, which holds its row locks (and its transaction) for the whole delete.

Measured: wall time and rows per second, the longest transaction (how long any row lock was held: a batch for
ours, everything for the plain delete), the table's size before, after the delete and after `VACUUM`, and — the
point of batching — how long an UPDATE of a row of an *unfinished* message (what a sending worker does) waits
while the prune runs: sampled every 50 ms from a second connection."""

import os
import statistics
import sys
import threading
import time

ROWS = int(os.environ.get("BENCH_PRUNE_ROWS", 2_000_000))
MESSAGES = 10


def _mib(cursor) -> float:
    cursor.execute("SELECT pg_total_relation_size('comms_delivery')")
    return cursor.fetchone()[0] / 2**20


def seed(rows: int) -> tuple[list[int], int]:
    """`rows` settled deliveries spread over MESSAGES finished messages (a month old), one delivery of a message
    still sending (the row the probe updates); with SQL, as a fan-out would have left them."""
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from comms.choices import MessageState
    from comms.models import Delivery, Message
    from tests.factories import MessageFactory

    finished = []
    for _ in range(MESSAGES):
        message = MessageFactory(state=MessageState.SENT)
        Message.objects.filter(pk=message.pk).update(finished_at=timezone.now() - timedelta(days=400))
        finished.append(message.pk)
    sending = MessageFactory(state=MessageState.SENDING)
    probe = Delivery.objects.create(message=sending, channel="email", recipient="probe@example.com")
    per_message = rows // MESSAGES
    started = time.monotonic()
    with connection.cursor() as cursor:
        for n, message_id in enumerate(finished, 1):
            cursor.execute(
                """INSERT INTO comms_delivery (message_id, in_reply_to, body, channel, recipient, code, status,
                       attempts, external_id, last_error, created_at, sent_at)
                   SELECT %s, '', '', 'email', 'r' || g || '-' || %s || '@example.com', md5(%s || '-' || g),
                          CASE WHEN g %% 50 = 0 THEN 'failed' ELSE 'sent' END, 1, '', '', now(), now()
                   FROM generate_series(1, %s) AS g""",
                [message_id, message_id, message_id, per_message],
            )
            done = n * per_message
            sys.stderr.write(f"\r  seeding: {done:,}/{rows:,} ({done / (time.monotonic() - started):,.0f}/s)   ")
        cursor.execute("ANALYZE comms_delivery")
    sys.stderr.write("\n")
    return finished, probe.pk


class SendingProbe(threading.Thread):
    """Every 50 ms, update a delivery of a message still sending (as a worker claiming it would) and time it: what
sending feels of the prune."""

    def __init__(self, delivery_id: int):
        super().__init__(daemon=True)
        self.delivery_id, self.waits, self.stop = delivery_id, [], threading.Event()

    def run(self):
        from django.db import connection

        with connection.cursor() as cursor:
            while not self.stop.is_set():
                started = time.perf_counter()
                cursor.execute("UPDATE comms_delivery SET attempts = attempts + 1 WHERE id = %s", [self.delivery_id])
                self.waits.append(time.perf_counter() - started)
                time.sleep(0.05)
        connection.close()


def main() -> dict:
    from django.db import connection, transaction

    from comms import retention
    from comms.models import DeliverySummary

    sys.stderr.write(f"retention: {ROWS:,} delivery rows of {MESSAGES} finished messages\n")
    result = {"rows": ROWS}

    # Ours.
    finished, probe_id = seed(ROWS)
    with connection.cursor() as cursor:
        result["mib_before"] = _mib(cursor)
    durations = []
    started = time.monotonic()
    probe = SendingProbe(probe_id)
    probe.start()

    def on_batch(done):
        now = time.monotonic()
        durations.append(now - on_batch.last)
        on_batch.last = now
        on_batch.total += done
        sys.stderr.write(f"\r  pruning: {on_batch.total:,}/{ROWS:,} ({on_batch.total / (now - started):,.0f}/s)   ")

    on_batch.last, on_batch.total = started, 0
    deleted = retention.prune_old_deliveries(on_batch=on_batch)
    seconds = time.monotonic() - started
    probe.stop.set()
    probe.join()
    sys.stderr.write("\n")
    summarised = sum(DeliverySummary.objects.values_list("count", flat=True))
    with connection.cursor() as cursor:
        result["mib_after_delete"] = _mib(cursor)
        cursor.execute("VACUUM comms_delivery")
        result["mib_after_vacuum"] = _mib(cursor)
    result["ours"] = {"deleted": deleted, "summarised": summarised, "seconds": seconds, "rate": deleted / seconds,
                      "batches": len(durations), "longest": max(durations), "median": statistics.median(durations),
                      "probe_longest": max(probe.waits), "probe_samples": len(probe.waits)}

    # The plain way, over the same number of rows.
    finished, probe_id = seed(ROWS)
    probe = SendingProbe(probe_id)
    probe.start()
    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM comms_delivery WHERE message_id = ANY(%s)", [finished])
        plain_deleted = cursor.rowcount
    plain_seconds = time.monotonic() - started
    probe.stop.set()
    probe.join()
    result["plain"] = {"deleted": plain_deleted, "seconds": plain_seconds, "rate": plain_deleted / plain_seconds,
                       "probe_longest": max(probe.waits)}
    result["summary"] = (
        f"retention: pruned {deleted:,} rows in {seconds:.1f} s ({deleted / seconds:,.0f}/s; one plain DELETE "
        f"{plain_seconds:.1f} s), longest transaction {max(durations) * 1000:,.0f} ms (plain {plain_seconds:.1f} s), "
        f"table {result['mib_before']:,.0f} MiB → {result['mib_after_vacuum']:,.0f} MiB after VACUUM, "
        f"summarised {summarised:,}/{ROWS:,}"
    )
    return result
