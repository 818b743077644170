"""Sweep (beat, every 30 s): rows of dead workers back to the queue, due retries and lost enqueues enqueued again,
orphaned fan-outs resumed, finished messages marked."""

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from comms.choices import DeliveryStatus, MessageState
from comms.delivery.dispatch import complete_fan_out, enqueue_queued, finish_message_if_done
from comms.delivery.locks import CLAIM_LOCKS, FAN_OUT_LOCKS, lock_is_free, release_lock, take_lock_if_free
from comms.models import Delivery, Message
from core.broker import inspect_broker, queue_of

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
# Set in the broker (Redis) by the sweeper; gone when Redis lost its data (restarted without persistence,
# flushed), and with it every task message in the queue.
BROKER_MARK_KEY = "ears:delivery-sweeper:broker-mark:{queue}"
BROKER_MARK_TTL = 24 * 3600


def sweep_deliveries() -> dict[str, int]:
    now = timezone.now()
    recovered = _recover_dead_claims(now)
    recovered += Delivery.objects.filter(
        status=DeliveryStatus.SENDING, claimed_at__lt=now - timezone.timedelta(seconds=STALE_CLAIM_SECONDS)
    ).update(
        status=DeliveryStatus.QUEUED, enqueued_at=None, last_error="Recovered from a worker that stopped mid-batch"
    )
    broker = inspect_broker(BROKER_MARK_KEY, BROKER_MARK_TTL, queue=queue_of("comms.tasks.send_deliveries"))
    lost_with_broker = 0
    if broker.reset:
        lost_with_broker = Delivery.objects.filter(status=DeliveryStatus.QUEUED, enqueued_at__isnull=False).update(
            enqueued_at=None
        )
    lost_after = IDLE_LOST_ENQUEUE_SECONDS if broker.waiting == 0 else LOST_ENQUEUE_SECONDS
    lost_before = now - timezone.timedelta(seconds=lost_after)
    waiting = (
        Delivery.objects.filter(status=DeliveryStatus.QUEUED)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=lost_before))
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(
            # rows of a fan-out in progress are enqueued by their dispatcher (or by the sweep that resumes it)
            Q(message__isnull=True) | Q(message__fanned_out_at__isnull=False)
        )
    )
    enqueued = enqueue_queued(delivery_ids=list(waiting.values_list("pk", flat=True)[:20000]))
    resumed = _resume_orphaned_fan_outs(now)
    finished = 0
    for message_id in Message.objects.filter(state=MessageState.SENDING).values_list("pk", flat=True):
        finished += bool(finish_message_if_done(message_id))
    return {
        "recovered": recovered,
        "lost_with_broker": lost_with_broker,
        "enqueued": enqueued,
        "resumed_fan_outs": resumed,
        "finished": finished,
    }


def _recover_dead_claims(now) -> int:
    """PostgreSQL: rows claimed by a session that no longer holds the claim's lock go back to the queue at once.

    The claim's shared lock is gone when its worker died (kill -9, out of memory, the machine) or its session was
    cut; the exclusive lock taken here, for this transaction only, is granted only then, and a reconnecting
    worker waits for it before it looks at which of its rows are still its own."""
    if connection.vendor != "postgresql":
        return 0
    claims = (
        Delivery.objects.filter(
            status=DeliveryStatus.SENDING, claimed_at__lt=now - timezone.timedelta(seconds=DEAD_CLAIM_GRACE_SECONDS)
        )
        .order_by()
        .values_list("claimed_at", flat=True)
        .distinct()
    )
    recovered = 0
    for claimed_at in list(claims):
        with transaction.atomic():
            if lock_is_free(CLAIM_LOCKS, claimed_at):
                recovered += Delivery.objects.filter(status=DeliveryStatus.SENDING, claimed_at=claimed_at).update(
                    status=DeliveryStatus.QUEUED,
                    enqueued_at=None,
                    last_error="Recovered from a worker that stopped mid-batch",
                )
    return recovered


def _resume_orphaned_fan_outs(now) -> int:
    """Finish the fan-out of messages whose dispatcher died: on PostgreSQL once its lock is gone, elsewhere after
    STALE_FAN_OUT_SECONDS."""
    postgresql = connection.vendor == "postgresql"
    grace = DEAD_CLAIM_GRACE_SECONDS if postgresql else STALE_FAN_OUT_SECONDS
    orphaned = Message.objects.select_related("incident").filter(
        state=MessageState.SENDING,
        fanned_out_at__isnull=True,
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
