"""From a due message to every recipient on every channel, each exactly once.

1. dispatch_due_messages claims scheduled messages whose time has come (scheduled → sending, a conditional
   update: two beats or two workers cannot both win), then creates one Delivery row per (message, channel,
   recipient), committing and enqueueing them in chunks so workers start sending while the rest are created
   (send_deliveries tasks carry only ids). The message is marked fanned out when every row exists.
3. send_deliveries claims its rows (queued → sending, row locks skipped by other workers), sends each over one
   shared connection and records each result immediately: sent, failed (permanent, or out of attempts), or
   queued again with a next attempt time (transient; exponential backoff with jitter, or the far side's reset).
4. sweep_deliveries puts rows back in the queue when a claim went stale (the worker died), re-enqueues due
   retries and rows whose broker message was lost, and resumes a fan-out whose dispatcher died; a message
   finishes when it is fanned out and no row is queued or sending.

A row is marked sent right after its own send, so a task that runs twice sends nothing twice; a worker killed
between a send and its record is the one window that can repeat a single delivery (at-least-once).
"""

import logging
import random
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from comms import cadence
from comms.channels import DeliverySkipped, TransportError, get_transport
from comms.choices import MESSAGE_MACHINE, Audience, DeliveryStatus, MessageState, TimelineKind
from comms.models import Delivery, Message
from comms.services import record
from comms.statemachine import TransitionNotAllowed

log = logging.getLogger(__name__)
S = DeliveryStatus

RETRY_BASE_SECONDS = 5
RETRY_MAX_SECONDS = 600
# A claim older than the longest a task may run means its worker died.
STALE_CLAIM_SECONDS = settings.CELERY_TASK_TIME_LIMIT + 60
# A queued row enqueued this long ago and still untouched lost its broker message (e.g. Redis restarted).
LOST_ENQUEUE_SECONDS = 300
# A fan-out not finished this long after dispatch lost its dispatcher; the sweeper completes it.
STALE_FAN_OUT_SECONDS = 120
INSERT_BATCH = 2000


def backoff_seconds(attempts: int, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter; the far side's own wait (X reset, Retry-After) wins when longer."""
    ceiling = min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    delay = random.uniform(ceiling / 2, ceiling)
    if retry_after is not None:
        delay = max(delay, retry_after + random.uniform(0, 2))
    return delay


# --- 1. dispatch ------------------------------------------------------------------------------------------


def dispatch_due_messages(limit: int = 20) -> list[int]:
    """Claim due scheduled messages and fan each out. Returns the ids this call dispatched."""
    now = timezone.now()
    due = list(
        Message.objects.filter(state=MessageState.SCHEDULED, scheduled_for__lte=now)
        .order_by("scheduled_for")
        .values_list("pk", flat=True)[:limit]
    )
    dispatched = []
    for pk in due:
        with transaction.atomic():
            if not Message.objects.filter(pk=pk, state=MessageState.SCHEDULED).update(
                state=MessageState.SENDING, dispatched_at=now
            ):
                continue  # someone else claimed it
            message = Message.objects.select_related("incident").get(pk=pk)
            if message.audience == Audience.PUBLIC:
                cadence.record_public_update(message.incident, now)
        complete_fan_out(message)
        dispatched.append(pk)
    return dispatched


def complete_fan_out(message: Message) -> dict[str, int]:
    """Create every delivery row, enqueueing each committed chunk at once; then mark the message fanned out."""
    counts = fan_out(message, on_chunk=lambda: enqueue_queued(message.pk, new_only=True))
    Message.objects.filter(pk=message.pk, fanned_out_at__isnull=True).update(fanned_out_at=timezone.now())
    summary = ", ".join(f"{n:,} on {kind}" for kind, n in counts.items()) or "no recipients"
    record(message.incident, TimelineKind.MESSAGE, f"Sending “{message.headline}”: {summary}",
           message_id=message.pk, recipients=counts)
    finish_message_if_done(message.pk)  # nothing to send, or everything already sent
    return counts


def fan_out(message: Message, on_chunk=None) -> dict[str, int]:
    """Create the delivery rows in committed chunks (idempotent: the unique constraint drops repeats)."""
    counts = {}
    for kind in message.channels:
        transport = get_transport(kind)
        rows = (
            Delivery(message=message, channel=kind, recipient=r.address, subscriber_id=r.subscriber_id,
                     endpoint_id=r.endpoint_id)
            for r in transport.recipients(message)
        )
        created = 0
        while batch := list(islice(rows, INSERT_BATCH)):
            with transaction.atomic():
                Delivery.objects.bulk_create(batch, ignore_conflicts=True)
            created += len(batch)
            if on_chunk:
                on_chunk()
        counts[kind] = created
    return counts


def enqueue_queued(message_id: int | None = None, delivery_ids=None, new_only: bool = False) -> int:
    """Enqueue send tasks for queued, due deliveries (of one message, or the given ids). Returns the count.

    new_only: only rows never enqueued (during fan-out, so a chunk's rows are not enqueued twice)."""
    from comms.tasks import send_deliveries

    now = timezone.now()
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    rows = Delivery.objects.filter(due, status=S.QUEUED)
    if message_id is not None:
        rows = rows.filter(message_id=message_id)
    if new_only:
        rows = rows.filter(enqueued_at__isnull=True)
    if delivery_ids is not None:
        rows = rows.filter(pk__in=delivery_ids)
    by_channel = defaultdict(list)
    for pk, channel in rows.order_by("pk").values_list("pk", "channel"):
        by_channel[channel].append(pk)
    total = 0
    for channel, ids in by_channel.items():
        size = settings.EMAIL_BATCH_SIZE if channel == "email" else 20
        for start in range(0, len(ids), size):
            chunk = ids[start : start + size]
            Delivery.objects.filter(pk__in=chunk).update(enqueued_at=now)
            send_deliveries.apply_async(args=[chunk])
            total += len(chunk)
    return total


# --- 3. send ----------------------------------------------------------------------------------------------


@dataclass
class BatchOutcome:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retry_in_seconds: dict[int, float] = field(default_factory=dict)  # delivery id → seconds until it is due

    @property
    def retry_ids(self) -> list[int]:
        return list(self.retry_in_seconds)

    @property
    def retry_in(self) -> float | None:
        return min(self.retry_in_seconds.values(), default=None)


def claim(delivery_ids) -> list[int]:
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(pk__in=delivery_ids, status=S.QUEUED)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .values_list("pk", flat=True)
        )
        Delivery.objects.filter(pk__in=ids).update(status=S.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    return ids


def send_deliveries(delivery_ids) -> BatchOutcome:
    outcome = BatchOutcome()
    claimed = claim(delivery_ids)
    if not claimed:
        return outcome
    deliveries = list(
        Delivery.objects.filter(pk__in=claimed)
        .select_related("message__incident", "subscriber", "endpoint", "mention")
        .order_by("pk")
    )
    by_channel = defaultdict(list)
    for delivery in deliveries:
        by_channel[delivery.channel].append(delivery)
    with fast_commits():
        for channel, batch in by_channel.items():
            _send_batch(get_transport(channel), batch, outcome)
    for message_id in {d.message_id for d in deliveries if d.message_id}:
        finish_message_if_done(message_id)
    return outcome


@contextmanager
def fast_commits():
    """Commit each delivery's record without waiting for PostgreSQL to flush its log to disk.

    Each record is still its own committed transaction right after its send, so a worker killed at any
    point loses nothing it recorded; only a crash of the database server itself could lose the last few
    hundred milliseconds of records, and those deliveries would be sent again (at-least-once).
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO DEFAULT")


def _mark_sent_sql() -> str:
    """The one statement run per delivery sent: plain SQL, as the ORM would build it, at half the cost."""
    meta = Delivery._meta
    column = {name: meta.get_field(name).column for name in ("status", "sent_at", "external_id", "last_error")}
    return (
        f"UPDATE {connection.ops.quote_name(meta.db_table)} SET {column['status']} = %s, {column['sent_at']} = %s, "
        f"{column['external_id']} = %s, {column['last_error']} = '' "
        f"WHERE {meta.pk.column} = %s AND {column['status']} = %s"
    )


def _send_batch(transport, batch: list[Delivery], outcome: BatchOutcome) -> None:
    mark_sent = _mark_sent_sql()
    with transport.session(), connection.cursor() as cursor:
        for index, delivery in enumerate(batch):
            try:
                external_id = transport.send(delivery)
            except DeliverySkipped as reason:
                Delivery.objects.filter(pk=delivery.pk).update(status=S.SKIPPED, last_error=str(reason))
                outcome.skipped += 1
            except SoftTimeLimitExceeded:
                # Out of time: put this one and the rest back untried, then let the task end.
                _requeue_untried(batch[index:], TransportError("The task ran out of time", permanent=False), outcome)
                raise
            except TransportError as error:
                _record_failure(delivery, error, outcome)
                if error.channel_down and not error.permanent:
                    _requeue_untried(batch[index + 1 :], error, outcome)
                    return
            except Exception as error:  # noqa: BLE001 - an unexpected bug must not strand the batch in "sending"
                log.exception("delivery %s failed unexpectedly", delivery.pk)
                _record_failure(delivery, TransportError(f"Unexpected error: {error}", permanent=False), outcome)
            else:
                cursor.execute(mark_sent, [S.SENT, timezone.now(), external_id[:200], delivery.pk, S.SENDING])
                outcome.sent += 1


def _record_failure(delivery: Delivery, error: TransportError, outcome: BatchOutcome) -> None:
    out_of_attempts = delivery.attempts >= settings.DELIVERY_MAX_ATTEMPTS
    if error.permanent or out_of_attempts:
        reason = str(error) if error.permanent else f"Gave up after {delivery.attempts} attempts: {error}"
        Delivery.objects.filter(pk=delivery.pk).update(status=S.FAILED, last_error=reason)
        outcome.failed += 1
        return
    delay = backoff_seconds(delivery.attempts, error.retry_after)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=S.QUEUED,
        last_error=str(error),
        next_attempt_at=timezone.now() + timezone.timedelta(seconds=delay),
        enqueued_at=None,
    )
    outcome.retry_in_seconds[delivery.pk] = delay


def _requeue_untried(rest: list[Delivery], error: TransportError, outcome: BatchOutcome) -> None:
    """The channel is down: the rest of the batch was not attempted; give the attempt back and wait."""
    if not rest:
        return
    ids = [d.pk for d in rest]
    delay = backoff_seconds(1, error.retry_after)
    Delivery.objects.filter(pk__in=ids, status=S.SENDING).update(
        status=S.QUEUED,
        attempts=F("attempts") - 1,
        last_error=f"Not tried: {error}",
        next_attempt_at=timezone.now() + timezone.timedelta(seconds=delay),
        enqueued_at=None,
    )
    outcome.retry_in_seconds.update(dict.fromkeys(ids, delay))


def mark_enqueued(delivery_ids) -> None:
    Delivery.objects.filter(pk__in=delivery_ids, status=S.QUEUED).update(enqueued_at=timezone.now())


# --- 4. finish and sweep ----------------------------------------------------------------------------------


def finish_message_if_done(message_id: int) -> str | None:
    counts = Delivery.objects.filter(message_id=message_id).aggregate(
        open=Count("pk", filter=Q(status__in=[S.QUEUED, S.SENDING])),
        sent=Count("pk", filter=Q(status=S.SENT)),
        failed=Count("pk", filter=Q(status=S.FAILED)),
    )
    if counts["open"]:
        return None
    if counts["failed"] == 0:
        state = MessageState.SENT
    elif counts["sent"] == 0:
        state = MessageState.FAILED
    else:
        state = MessageState.PARTIALLY_FAILED
    if not Message.objects.filter(pk=message_id, state=MessageState.SENDING, fanned_out_at__isnull=False).update(
        state=state, finished_at=timezone.now()
    ):
        return None
    message = Message.objects.select_related("incident").get(pk=message_id)
    record(
        message.incident,
        TimelineKind.DELIVERY,
        f"“{message.headline}” {MessageState(state).label.lower()}: {counts['sent']:,} delivered, "
        f"{counts['failed']:,} failed",
        message_id=message_id,
        sent=counts["sent"],
        failed=counts["failed"],
    )
    return state


def sweep_deliveries() -> dict[str, int]:
    now = timezone.now()
    stale = Delivery.objects.filter(
        status=S.SENDING, claimed_at__lt=now - timezone.timedelta(seconds=STALE_CLAIM_SECONDS)
    ).update(status=S.QUEUED, enqueued_at=None, last_error="Recovered from a worker that stopped mid-batch")
    lost_before = now - timezone.timedelta(seconds=LOST_ENQUEUE_SECONDS)
    waiting = Delivery.objects.filter(status=S.QUEUED).filter(
        Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=lost_before)
    ).filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    enqueued = enqueue_queued(delivery_ids=list(waiting.values_list("pk", flat=True)[:20000]))
    resumed = 0
    orphaned = Message.objects.select_related("incident").filter(
        state=MessageState.SENDING, fanned_out_at__isnull=True,
        dispatched_at__lt=now - timezone.timedelta(seconds=STALE_FAN_OUT_SECONDS),
    )
    for message in orphaned:
        complete_fan_out(message)
        resumed += 1
    finished = 0
    for message_id in Message.objects.filter(state=MessageState.SENDING).values_list("pk", flat=True):
        finished += bool(finish_message_if_done(message_id))
    return {"recovered": stale, "enqueued": enqueued, "resumed_fan_outs": resumed, "finished": finished}


def retry_failed(message: Message, actor) -> int:
    """A communications lead retries a message's failed deliveries."""
    if not actor.has_perm("comms.approve_message"):
        raise PermissionDenied("Only communications leads retry failed deliveries.")
    message = Message.objects.select_related("incident").get(pk=message.pk)
    if message.state not in (MessageState.PARTIALLY_FAILED, MessageState.FAILED):
        raise TransitionNotAllowed("Only a message with failed deliveries can be retried.")
    MESSAGE_MACHINE.check(message.state, MessageState.SENDING)
    with transaction.atomic():
        count = message.deliveries.filter(status=S.FAILED).update(
            status=S.QUEUED, attempts=0, next_attempt_at=None, enqueued_at=None
        )
        if count:
            Message.objects.filter(pk=message.pk).update(state=MessageState.SENDING, finished_at=None)
            record(message.incident, TimelineKind.DELIVERY,
                   f"Retrying {count:,} failed deliveries of “{message.headline}”", actor, message_id=message.pk)
            transaction.on_commit(lambda: enqueue_queued(message.pk))
    return count
