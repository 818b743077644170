"""Send: a task claims its rows, sends each over one shared connection and records each result at once."""

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

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from comms.channels import DeliveryDeferred, DeliverySkipped, TransportError, get_transport
from comms.choices import DeliveryStatus
from comms.delivery.dispatch import finish_message_if_done
from comms.delivery.locks import CLAIM_LOCKS, hold_lock, release_lock
from comms.models import Delivery

log = logging.getLogger(__name__)


RETRY_BASE_SECONDS = 5
RETRY_MAX_SECONDS = 600
# A worker whose database session was cut retries a record after these pauses (≈ 1 min), then gives up.
RECONNECT_PAUSES = (0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30)


def backoff_seconds(attempts: int, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter; the far side's own wait (X reset, Retry-After) wins when longer."""
    ceiling = min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    delay = random.uniform(ceiling / 2, ceiling)
    if retry_after is not None:
        delay = max(delay, retry_after + random.uniform(0, 2))
    return delay


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
                .filter(pk__in=delivery_ids, status=DeliveryStatus.QUEUED)
                .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
                .values_list("pk", flat=True)
            )
            if ids:
                locked = hold_lock(CLAIM_LOCKS, now)
                Delivery.objects.filter(pk__in=ids).update(status=DeliveryStatus.SENDING, claimed_at=now,
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
            # The message (its text can be 40,000 characters) once per batch, not joined onto each of its rows.
            .select_related("subscriber", "endpoint").prefetch_related("message__incident", "notice__maintenance")
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
            mine = set(Delivery.objects.filter(pk__in=untried, status=DeliveryStatus.SENDING, claimed_at=self.claim.at)
                       .values_list("pk", flat=True))
        except (OperationalError, InterfaceError):
            return  # still unreachable: the next attempt reconnects again
        self.given_back |= untried - mine

    def mine(self, delivery_id: int) -> bool:
        return delivery_id not in self.given_back

    def owned(self, *ids: int):
        """Rows of this claim that nobody took back."""
        return Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.SENDING, claimed_at=self.claim.at)


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
        transport.prepare(batch)
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
                    status=DeliveryStatus.SKIPPED, last_error=str(r)))
                outcome.skipped += 1
            except SoftTimeLimitExceeded:
                # Out of time: put this one and the rest back untried, then let the task end.
                _requeue_untried(batch[index:], TransportError("The task ran out of time", permanent=False), outcome,
                                 recorder)
                raise
            except DeliveryDeferred as wait:  # not its turn (an earlier post of its thread): untried, uncounted
                _requeue_untried([delivery], wait, outcome, recorder)
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
                recorder.execute(
                    delivery.pk,
                    mark_sent,
                    [
                        DeliveryStatus.SENT,
                        timezone.now(),
                        external_id[:200],
                        delivery.pk,
                        DeliveryStatus.SENDING,
                        DeliveryStatus.QUEUED,
                    ],
                )
                outcome.sent += 1


def _record_failure(delivery: Delivery, error: TransportError, outcome: BatchOutcome, recorder: Recorder) -> None:
    out_of_attempts = delivery.attempts >= settings.DELIVERY_MAX_ATTEMPTS
    if error.permanent or out_of_attempts:
        reason = str(error) if error.permanent else f"Gave up after {delivery.attempts} attempts: {error}"
        recorder.write(
            delivery.pk, lambda: recorder.owned(delivery.pk).update(status=DeliveryStatus.FAILED, last_error=reason)
        )
        outcome.failed += 1
        return
    delay = backoff_seconds(delivery.attempts, error.retry_after)
    recorder.write(
        delivery.pk,
        lambda: recorder.owned(delivery.pk).update(
            status=DeliveryStatus.QUEUED,
            last_error=str(error),
            next_attempt_at=timezone.now() + timezone.timedelta(seconds=delay),
            enqueued_at=None,
        ),
    )
    outcome.retry_in_seconds[delivery.pk] = delay


def _requeue_untried(rest: list[Delivery], error: TransportError, outcome: BatchOutcome, recorder: Recorder) -> None:
    """The rest of the batch was not attempted (the channel is down, time is up, the worker is stopping): give
    the attempt back and wait."""
    ids = [d.pk for d in rest if recorder.mine(d.pk)]
    if not ids:
        return
    delay = backoff_seconds(1, error.retry_after)
    recorder.write(
        None,
        lambda: recorder.owned(*ids).update(
            status=DeliveryStatus.QUEUED,
            attempts=F("attempts") - 1,
            last_error=f"Not tried: {error}",
            next_attempt_at=timezone.now() + timezone.timedelta(seconds=delay),
            enqueued_at=None,
        ),
    )
    recorder.done.update(ids)
    outcome.retry_in_seconds.update(dict.fromkeys(ids, delay))
