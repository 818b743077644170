"""From a due message to every recipient on every channel, each exactly once.

1. dispatch_due_messages claims scheduled messages whose time has come (scheduled → sending, a conditional
   update: two beats or two workers cannot both win), then creates one Delivery row per (message, channel,
   recipient), committing and enqueueing them in chunks so workers start sending while the rest are created
   (send_deliveries tasks carry only ids). The message is marked fanned out when every row exists.
3. send_deliveries claims its rows (queued → sending, row locks skipped by other workers), sends each over one
   shared connection and records each result immediately: sent, failed (permanent, or out of attempts), or
   queued again with a next attempt time (transient; exponential backoff with jitter, or the far side's reset).
4. sweep_deliveries puts rows back in the queue when their worker died, re-enqueues due retries and rows whose
   broker message was lost, and resumes a fan-out whose dispatcher died; a message finishes when it is fanned
   out and no row is queued or sending.

A row is marked sent right after its own send, so a task that runs twice sends nothing twice; a worker killed
between a send and its record is the one window that can repeat a delivery: at most one per batch the worker
was sending when it died (at-least-once).

On PostgreSQL a claim (and a fan-out) is held by an advisory lock of the session that made it, so the sweeper
can tell a dead worker's rows from rows still being sent, and rescues them at its next run instead of after the
longest a task may run; a worker whose database session is cut (failover, pg_terminate_backend, a restarted
pooler) reconnects, takes its claim back and goes on recording. Details at the helpers below.
"""

import datetime
import logging
import os
import random
import signal
import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
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
# A claim older than the longest a task may run means its worker died (every database; the last resort).
STALE_CLAIM_SECONDS = settings.CELERY_TASK_TIME_LIMIT + 60
# PostgreSQL: a claim or fan-out at least this old whose session lock is gone lost its worker. The grace covers
# a worker reconnecting after its database session was cut, for a batch of ordinary length.
DEAD_CLAIM_GRACE_SECONDS = 10
# A queued row enqueued this long ago and still untouched lost its broker message (e.g. a worker killed with it
# reserved); sooner, IDLE_LOST_ENQUEUE_SECONDS, when the broker's queue is empty (nothing can be waiting there).
LOST_ENQUEUE_SECONDS = 300
IDLE_LOST_ENQUEUE_SECONDS = 30
# A fan-out not finished this long after dispatch lost its dispatcher; the sweeper completes it.
STALE_FAN_OUT_SECONDS = 120
INSERT_BATCH = 2000
# Advisory lock key spaces (the first int4 of pg_advisory_lock(int4, int4)): "EARS" + 0 / + 1.
CLAIM_LOCKS = 0x45415253
FAN_OUT_LOCKS = CLAIM_LOCKS + 1
# A worker whose database session was cut retries a record after these pauses (≈ 1 min), then gives up.
RECONNECT_PAUSES = (0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30)
# Set in the broker (Redis) by the sweeper; gone when Redis lost its data (restarted without persistence,
# flushed), and with it every task message in the queue.
BROKER_MARK_KEY = "ears:delivery-sweeper:broker-mark:{queue}"
BROKER_MARK_TTL = 24 * 3600


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
        locked = False
        try:
            with transaction.atomic():
                if not Message.objects.filter(pk=pk, state=MessageState.SCHEDULED).update(
                    state=MessageState.SENDING, dispatched_at=now
                ):
                    continue  # someone else claimed it
                # Held by this session until every row exists: if it dies, the sweeper sees the lock gone.
                locked = hold_lock(FAN_OUT_LOCKS, pk)
                message = Message.objects.select_related("incident").get(pk=pk)
                if message.audience == Audience.PUBLIC:
                    cadence.record_public_update(message.incident, now)
            complete_fan_out(message)
        finally:
            if locked:
                release_lock(FAN_OUT_LOCKS, pk)
        dispatched.append(pk)
    return dispatched


def complete_fan_out(message: Message) -> dict[str, int]:
    """Create every delivery row, enqueueing each committed chunk at once; then mark the message fanned out."""
    counts = fan_out(message, on_chunk=lambda: enqueue_queued(message.pk, new_only=True))
    if not Message.objects.filter(pk=message.pk, fanned_out_at__isnull=True).update(fanned_out_at=timezone.now()):
        return counts  # another sweeper finished it first: it also wrote the timeline
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
    given_back: int = 0  # rows the sweeper took back while this worker's database session was gone
    stopped: bool = False  # the worker was told to stop (SIGTERM): the rest of the batch went back to the queue

    @property
    def retry_ids(self) -> list[int]:
        return list(self.retry_in_seconds)

    @property
    def retry_in(self) -> float | None:
        return min(self.retry_in_seconds.values(), default=None)


@dataclass
class Claim:
    ids: list[int]
    at: datetime.datetime  # claimed_at of every row of the claim: the claim's identity and its lock's key
    locked: bool = False  # this session holds the claim's lock (PostgreSQL)


def claim(delivery_ids) -> Claim:
    """queued (and due) → sending. On PostgreSQL the claim is held by a shared advisory lock of this session,
    taken before the claim commits, until release_lock (or the session's end: then the sweeper takes it back)."""
    now = timezone.now()
    locked = False
    try:
        with transaction.atomic():
            ids = list(
                Delivery.objects.select_for_update(skip_locked=True)
                .filter(pk__in=delivery_ids, status=S.QUEUED)
                .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
                .values_list("pk", flat=True)
            )
            if ids:
                locked = hold_lock(CLAIM_LOCKS, now)
                Delivery.objects.filter(pk__in=ids).update(status=S.SENDING, claimed_at=now,
                                                           attempts=F("attempts") + 1)
    except BaseException:
        if locked:
            release_lock(CLAIM_LOCKS, now)
        raise
    return Claim(ids, now, locked)


def send_deliveries(delivery_ids) -> BatchOutcome:
    outcome = BatchOutcome()
    claimed = claim(delivery_ids)
    if not claimed.ids:
        return outcome
    recorder = Recorder(claimed)
    try:
        deliveries = recorder.write(None, lambda: list(  # a lost session here: reconnect and keep the claim too
            Delivery.objects.filter(pk__in=claimed.ids)
            .select_related("message__incident", "subscriber", "endpoint", "mention")
            .order_by("pk")
        ))
        by_channel = defaultdict(list)
        for delivery in deliveries:
            by_channel[delivery.channel].append(delivery)
        with recorder, stop_requests() as stop:
            for channel, batch in by_channel.items():
                _send_batch(get_transport(channel), batch, outcome, recorder, stop)
                if outcome.stopped:
                    break
            outcome.given_back = len(recorder.given_back)
    finally:
        if recorder.locked:
            release_lock(CLAIM_LOCKS, claimed.at)
    if stop.requested:
        stop.resume()  # the stop request goes on to Celery (the process ends), now that every row is recorded
    for message_id in {d.message_id for d in deliveries if d.message_id}:
        finish_message_if_done(message_id)
    return outcome


class Recorder:
    """Records each delivery right after its send, each record its own commit, and survives a lost session.

    Commits do not wait for PostgreSQL to flush its log (synchronous_commit off): a killed worker loses nothing
    it recorded; only a crash of the database server itself could lose the last few hundred milliseconds of
    records, and those deliveries would be sent again (at-least-once).

    When the database session is cut under the worker (a failover, pg_terminate_backend, a restarted pooler),
    a record would fail after its delivery went out, and the sweeper would later send that delivery again.
    Instead the recorder reconnects (pausing RECONNECT_PAUSES), takes the claim's lock again, learns which rows
    are still its own (the sweeper may have taken some back meanwhile: those are not sent by this batch) and
    writes the record. A "sent" is always written, even on a row taken back: it did go out.
    """

    def __init__(self, claimed: Claim):
        self.claim = claimed
        self.done: set[int] = set()  # rows recorded by this batch
        self.given_back: set[int] = set()  # rows taken back by the sweeper: no longer this batch's to send
        self.postgresql = connection.vendor == "postgresql"
        self.locked = claimed.locked  # the session holds the claim's lock
        self.cursor = None

    def __enter__(self):
        self._fast_commits("OFF")
        return self

    def __exit__(self, *exc):
        try:
            if self.cursor is not None:
                self.cursor.close()
            self._fast_commits("DEFAULT")
        except DatabaseError:
            pass  # the session is gone, and the setting with it

    def _fast_commits(self, value: str) -> None:
        if self.postgresql:
            with connection.cursor() as cursor:
                cursor.execute(f"SET synchronous_commit TO {value}")

    def execute(self, delivery_id: int, sql: str, params) -> None:
        def statement():
            if self.cursor is None:
                self.cursor = connection.cursor()
            self.cursor.execute(sql, params)

        self.write(delivery_id, statement)

    def write(self, delivery_id: int | None, statement):
        """Run one short statement; after a lost session reconnect, take the claim back and run it again."""
        for pause in (*RECONNECT_PAUSES, None):
            try:
                result = statement()
            except (OperationalError, InterfaceError) as error:
                if pause is None or connection.in_atomic_block:
                    raise
                log.warning("Database session lost while recording deliveries (%s); reconnecting in %s s",
                            str(error).strip(), pause)
                self._reconnect(pause)
            else:
                if delivery_id is not None:
                    self.done.add(delivery_id)
                return result

    def _reconnect(self, pause: float) -> None:
        if self.cursor is not None:
            try:
                self.cursor.close()
            except DatabaseError:
                pass
            self.cursor = None
        try:
            connection.close()
        except DatabaseError:
            pass
        self.locked = False
        time.sleep(pause)
        try:
            if self.postgresql:
                hold_lock(CLAIM_LOCKS, self.claim.at)  # waits while a sweeper is taking this claim's rows back
                self.locked = True
                self._fast_commits("OFF")
            untried = set(self.claim.ids) - self.done
            mine = set(Delivery.objects.filter(pk__in=untried, status=S.SENDING, claimed_at=self.claim.at)
                       .values_list("pk", flat=True))
        except (OperationalError, InterfaceError):
            return  # still unreachable: the next attempt reconnects again
        self.given_back |= untried - mine

    def mine(self, delivery_id: int) -> bool:
        return delivery_id not in self.given_back

    def owned(self, *ids: int):
        """Rows of this claim that nobody took back."""
        return Delivery.objects.filter(pk__in=ids, status=S.SENDING, claimed_at=self.claim.at)


class StopRequest:
    requested = False

    @staticmethod
    def resume() -> None:
        """Hand the stop request on (to the handler it was meant for), as if it had arrived now."""
        os.kill(os.getpid(), signal.SIGTERM)


@contextmanager
def stop_requests():
    """While a batch is sent, SIGTERM (Celery terminating the task, e.g. after losing its broker connection; a
    cold shutdown) lets the delivery in progress finish and be recorded, and gives the rest of the batch back,
    before the process ends — rather than ending between a send and its record."""
    stop = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield stop  # signals reach the main thread only
        return

    def requested(signum, frame):
        stop.requested = True

    previous = signal.signal(signal.SIGTERM, requested)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGTERM, previous)


def _mark_sent_sql() -> str:
    """The one statement run per delivery sent: plain SQL, as the ORM would build it, at half the cost.

    It applies to a row the sweeper took back meanwhile (queued) too: the delivery did go out."""
    meta = Delivery._meta
    column = {name: meta.get_field(name).column for name in ("status", "sent_at", "external_id", "last_error")}
    return (
        f"UPDATE {connection.ops.quote_name(meta.db_table)} SET {column['status']} = %s, {column['sent_at']} = %s, "
        f"{column['external_id']} = %s, {column['last_error']} = '' "
        f"WHERE {meta.pk.column} = %s AND {column['status']} IN (%s, %s)"
    )


def _send_batch(transport, batch: list[Delivery], outcome: BatchOutcome, recorder: Recorder,
                stop: StopRequest) -> None:
    mark_sent = _mark_sent_sql()
    with transport.session():
        for index, delivery in enumerate(batch):
            if stop.requested:
                _requeue_untried(batch[index:], TransportError("The worker was stopped", permanent=False), outcome,
                                 recorder)
                outcome.stopped = True
                return
            if not recorder.mine(delivery.pk):
                continue
            try:
                external_id = transport.send(delivery)
            except DeliverySkipped as reason:
                recorder.write(delivery.pk, lambda d=delivery, r=reason: recorder.owned(d.pk).update(
                    status=S.SKIPPED, last_error=str(r)))
                outcome.skipped += 1
            except SoftTimeLimitExceeded:
                # Out of time: put this one and the rest back untried, then let the task end.
                _requeue_untried(batch[index:], TransportError("The task ran out of time", permanent=False), outcome,
                                 recorder)
                raise
            except TransportError as error:
                _record_failure(delivery, error, outcome, recorder)
                if error.channel_down and not error.permanent:
                    _requeue_untried(batch[index + 1 :], error, outcome, recorder)
                    return
            except Exception as error:  # noqa: BLE001 - an unexpected bug must not strand the batch in "sending"
                log.exception("delivery %s failed unexpectedly", delivery.pk)
                _record_failure(delivery, TransportError(f"Unexpected error: {error}", permanent=False), outcome,
                                recorder)
            else:
                recorder.execute(delivery.pk, mark_sent, [S.SENT, timezone.now(), external_id[:200], delivery.pk,
                                                          S.SENDING, S.QUEUED])
                outcome.sent += 1


def _record_failure(delivery: Delivery, error: TransportError, outcome: BatchOutcome, recorder: Recorder) -> None:
    out_of_attempts = delivery.attempts >= settings.DELIVERY_MAX_ATTEMPTS
    if error.permanent or out_of_attempts:
        reason = str(error) if error.permanent else f"Gave up after {delivery.attempts} attempts: {error}"
        recorder.write(delivery.pk, lambda: recorder.owned(delivery.pk).update(status=S.FAILED, last_error=reason))
        outcome.failed += 1
        return
    delay = backoff_seconds(delivery.attempts, error.retry_after)
    recorder.write(delivery.pk, lambda: recorder.owned(delivery.pk).update(
        status=S.QUEUED,
        last_error=str(error),
        next_attempt_at=timezone.now() + timezone.timedelta(seconds=delay),
        enqueued_at=None,
    ))
    outcome.retry_in_seconds[delivery.pk] = delay


def _requeue_untried(rest: list[Delivery], error: TransportError, outcome: BatchOutcome, recorder: Recorder) -> None:
    """The rest of the batch was not attempted (the channel is down, time is up, the worker is stopping): give
    the attempt back and wait."""
    ids = [d.pk for d in rest if recorder.mine(d.pk)]
    if not ids:
        return
    delay = backoff_seconds(1, error.retry_after)
    recorder.write(None, lambda: recorder.owned(*ids).update(
        status=S.QUEUED,
        attempts=F("attempts") - 1,
        last_error=f"Not tried: {error}",
        next_attempt_at=timezone.now() + timezone.timedelta(seconds=delay),
        enqueued_at=None,
    ))
    recorder.done.update(ids)
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
    recovered = _recover_dead_claims(now)
    recovered += Delivery.objects.filter(
        status=S.SENDING, claimed_at__lt=now - timezone.timedelta(seconds=STALE_CLAIM_SECONDS)
    ).update(status=S.QUEUED, enqueued_at=None, last_error="Recovered from a worker that stopped mid-batch")
    broker = inspect_broker()
    lost_with_broker = 0
    if broker.reset:
        lost_with_broker = Delivery.objects.filter(status=S.QUEUED, enqueued_at__isnull=False).update(enqueued_at=None)
    lost_after = IDLE_LOST_ENQUEUE_SECONDS if broker.waiting == 0 else LOST_ENQUEUE_SECONDS
    lost_before = now - timezone.timedelta(seconds=lost_after)
    waiting = Delivery.objects.filter(status=S.QUEUED).filter(
        Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=lost_before)
    ).filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)).filter(
        # rows of a fan-out in progress are enqueued by their dispatcher (or by the sweep that resumes it)
        Q(message__isnull=True) | Q(message__fanned_out_at__isnull=False)
    )
    enqueued = enqueue_queued(delivery_ids=list(waiting.values_list("pk", flat=True)[:20000]))
    resumed = _resume_orphaned_fan_outs(now)
    finished = 0
    for message_id in Message.objects.filter(state=MessageState.SENDING).values_list("pk", flat=True):
        finished += bool(finish_message_if_done(message_id))
    return {"recovered": recovered, "lost_with_broker": lost_with_broker, "enqueued": enqueued,
            "resumed_fan_outs": resumed, "finished": finished}


def _recover_dead_claims(now) -> int:
    """PostgreSQL: rows claimed by a session that no longer holds the claim's lock go back to the queue at once.

    The claim's shared lock is gone when its worker died (kill -9, out of memory, the machine) or its session was
    cut; the exclusive lock taken here, for this transaction only, is granted only then, and a reconnecting
    worker waits for it before it looks at which of its rows are still its own."""
    if connection.vendor != "postgresql":
        return 0
    claims = (
        Delivery.objects.filter(status=S.SENDING, claimed_at__lt=now - timezone.timedelta(
            seconds=DEAD_CLAIM_GRACE_SECONDS))
        .order_by().values_list("claimed_at", flat=True).distinct()
    )
    recovered = 0
    for claimed_at in list(claims):
        with transaction.atomic():
            if lock_is_free(CLAIM_LOCKS, claimed_at):
                recovered += Delivery.objects.filter(status=S.SENDING, claimed_at=claimed_at).update(
                    status=S.QUEUED, enqueued_at=None, last_error="Recovered from a worker that stopped mid-batch"
                )
    return recovered


def _resume_orphaned_fan_outs(now) -> int:
    """Finish the fan-out of messages whose dispatcher died: on PostgreSQL once its lock is gone, elsewhere after
    STALE_FAN_OUT_SECONDS."""
    postgresql = connection.vendor == "postgresql"
    grace = DEAD_CLAIM_GRACE_SECONDS if postgresql else STALE_FAN_OUT_SECONDS
    orphaned = Message.objects.select_related("incident").filter(
        state=MessageState.SENDING, fanned_out_at__isnull=True,
        dispatched_at__lt=now - timezone.timedelta(seconds=grace),
    )
    resumed = 0
    for message in orphaned:
        if postgresql and not take_lock_if_free(FAN_OUT_LOCKS, message.pk):
            continue  # its dispatcher is still at work, or another sweeper took it
        try:
            if Message.objects.filter(pk=message.pk, fanned_out_at__isnull=True).exists():
                complete_fan_out(message)
                resumed += 1
        finally:
            if postgresql:
                release_lock(FAN_OUT_LOCKS, message.pk, shared=False)
    return resumed


@dataclass
class BrokerState:
    reset: bool = False  # the broker lost its data since the last look: every task message enqueued before is gone
    waiting: int | None = None  # task messages waiting in the queue (None: unknown)


def inspect_broker() -> BrokerState:
    """What the sweeper can learn from a Redis broker (other brokers: nothing).

    reset: the sweeper keeps a mark in Redis, next to the queue; the mark is gone exactly when the queue's
    contents are (Redis restarted without persistence, or flushed), and the rows those messages carried must be
    enqueued again. The first sweep ever finds no mark either, and enqueues the queued rows again: harmless.

    waiting: when nothing waits in the queue, a row enqueued a while ago and still queued lost its message (a
    worker killed with it reserved: Redis gives such messages back only after the visibility timeout)."""
    def look(client, queue: str) -> BrokerState:
        mark = BROKER_MARK_KEY.format(queue=queue)
        reset = bool(client.set(mark, timezone.now().isoformat(), nx=True, ex=BROKER_MARK_TTL))
        if not reset:
            client.expire(mark, BROKER_MARK_TTL)  # lives while sweeps run; a queue unswept for a day is gone
        return BrokerState(reset, _waiting(client, queue))

    return _with_redis_broker(look) or BrokerState()


def waiting_messages() -> int | None:
    """How many task messages wait in the queue (None: unknown, the broker is not Redis or did not answer)."""
    return _with_redis_broker(_waiting)


def _waiting(client, queue: str) -> int:
    # kombu keeps messages of priority p > 0 in "<queue>\x06\x16<p>"
    return sum(client.llen(name) for name in (queue, *(f"{queue}\x06\x16{p}" for p in (3, 6, 9))))


def _with_redis_broker(look):
    """look(client, queue) on a Redis broker; None for other brokers or when Redis does not answer."""
    from celery import current_app

    url = current_app.conf.broker_url or ""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    import redis

    try:
        with redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5) as client:
            return look(client, current_app.conf.task_default_queue)
    except redis.RedisError:
        log.warning("Could not reach the broker", exc_info=True)
        return None


# --- advisory locks (PostgreSQL) -------------------------------------------------------------------------
#
# A claim of delivery rows and a message's fan-out are each held by a shared, session-level advisory lock of
# the session that made them, taken in the same transaction. PostgreSQL releases it when that session ends for
# any reason, so "the lock is free" means "whoever held this is gone": the sweeper can rescue the rows at once
# instead of waiting out the longest a task may run. A claim's key is its claimed_at (every row of one claim
# has the same); a fan-out's is the message id. Two keys may collide (the low 32 bits of two claim times 71
# minutes apart): then both wait for the later holder, which only delays a rescue. Without PostgreSQL, or with
# a pooler in transaction mode (where session locks do not follow the client), rescue falls back to
# STALE_CLAIM_SECONDS and STALE_FAN_OUT_SECONDS.

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def _lock_key(value) -> int:
    if isinstance(value, datetime.datetime):
        value = (value - _EPOCH) // datetime.timedelta(microseconds=1)
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def hold_lock(space: int, value) -> bool:
    """Take the shared session lock (waiting while a sweeper holds it exclusively). False without PostgreSQL."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock_shared(%s, %s)", [space, _lock_key(value)])
    return True


def release_lock(space: int, value, shared: bool = True) -> None:
    if connection.vendor != "postgresql":
        return
    function = "pg_advisory_unlock_shared" if shared else "pg_advisory_unlock"
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {function}(%s, %s)", [space, _lock_key(value)])
    except DatabaseError:
        pass  # the session is gone, and its locks with it


def lock_is_free(space: int, value) -> bool:
    """Inside a transaction: take the exclusive lock until it ends, if no session holds the shared one."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [space, _lock_key(value)])
        return cursor.fetchone()[0]


def take_lock_if_free(space: int, value) -> bool:
    """The exclusive session lock, if no session holds the key (release with release_lock(shared=False))."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [space, _lock_key(value)])
        return cursor.fetchone()[0]


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
            # robust: with the broker down the retry is still recorded, and sweep_deliveries enqueues it later
            transaction.on_commit(lambda: enqueue_queued(message.pk), robust=True)
    return count
