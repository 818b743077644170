"""Retention: delivery rows of finished messages are summarised into per-message counts, then deleted.

A delivery row is written per recipient per update: a million subscribers and ten updates are ten million rows for
one incident. They matter while a message goes out (claims, retries, the sweep) and for a while after (who failed,
retrying them); after DELIVERY_RETENTION_DAYS (0: keep them forever) only the counts do.

`prune_old_deliveries` (beat, hourly) takes finished messages (sent, partially failed, failed, cancelled) whose
`finished_at` is older than that, and for each works in batches of PRUNE_BATCH rows, each batch its own short
transaction: read the ids of a batch of settled rows (sent, failed, skipped), add their counts per channel and
status to DeliverySummary, delete them. No lock but those rows' own is taken and none is held between batches, so
sending (which only touches queued rows of unfinished messages) goes on beside it. A crash between batches loses
nothing: a batch's counts and its delete commit together. Replies to mentions (no message) are never pruned: they
are the record of what support said.
"""

from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F
from django.utils import timezone

from comms.choices import DeliveryStatus, MessageState
from comms.models import Delivery, DeliverySummary, Message

PRUNE_BATCH = 5_000
PRUNE_PER_RUN = 1_000_000  # one beat run's share; the next hour's run goes on where it stopped
SETTLED = (DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.SKIPPED)
FINISHED = (MessageState.SENT, MessageState.PARTIALLY_FAILED, MessageState.FAILED, MessageState.CANCELLED)


def prunable_messages(now=None):
    days = settings.DELIVERY_RETENTION_DAYS
    if not days:
        return Message.objects.none()
    cutoff = (now or timezone.now()) - timedelta(days=days)
    return Message.objects.filter(state__in=FINISHED, finished_at__lt=cutoff).order_by("pk")


def prune_old_deliveries(now=None, *, batch: int = PRUNE_BATCH, limit: int | None = None,
                         on_batch: Callable[[int], None] | None = None) -> int:
    """Summarise and delete the settled delivery rows of messages past retention. Returns how many were deleted;
    `limit` bounds one run (beat runs it again), `on_batch(deleted)` reports progress."""
    deleted = 0
    for message_id in prunable_messages(now).values_list("pk", flat=True).iterator(1000):
        while limit is None or deleted < limit:
            done = prune_batch(message_id, batch if limit is None else min(batch, limit - deleted))
            if not done:
                break
            deleted += done
            if on_batch is not None:
                on_batch(done)
        if limit is not None and deleted >= limit:
            break
    return deleted


@transaction.atomic
def prune_batch(message_id: int, size: int) -> int:
    """One batch of one message: its counts added to the summary and its rows deleted, in one transaction."""
    counts = _delete_batch(message_id, size)
    for (channel, status), count in counts.items():
        updated = DeliverySummary.objects.filter(message_id=message_id, channel=channel, status=status).update(
            count=F("count") + count)
        if not updated:
            DeliverySummary.objects.create(message_id=message_id, channel=channel, status=status, count=count)
    return sum(counts.values())


def _delete_batch(message_id: int, size: int) -> dict[tuple[str, str], int]:
    """Delete up to `size` settled rows of the message; (channel, status) → how many went."""
    if connection.vendor == "postgresql":
        # One statement: the rows are chosen, locked (skipping any another run holds), deleted and counted together.
        with connection.cursor() as cursor:
            cursor.execute(
                """WITH gone AS (
                       DELETE FROM comms_delivery WHERE id IN (
                           SELECT id FROM comms_delivery WHERE message_id = %s AND status = ANY(%s)
                           ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED)
                       RETURNING channel, status)
                   SELECT channel, status, count(*) FROM gone GROUP BY channel, status""",
                [message_id, list(SETTLED), size],
            )
            return {(channel, status): count for channel, status, count in cursor.fetchall()}
    ids = list(Delivery.objects.filter(message_id=message_id, status__in=SETTLED)
               .order_by("pk").values_list("pk", flat=True)[:size])
    counts = {(row["channel"], row["status"]): row["count"] for row in Delivery.objects.filter(pk__in=ids)
              .values("channel", "status").annotate(count=Count("pk"))}
    Delivery.objects.filter(pk__in=ids).delete()
    return counts


def summarised_counts(message) -> dict[tuple[str, str], int]:
    """(channel, status) → how many rows retention summarised for this message."""
    return {(row.channel, row.status): row.count for row in message.delivery_summaries.all()}
