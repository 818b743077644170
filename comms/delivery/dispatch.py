"""Dispatch: a due message becomes one Delivery row per (channel, recipient), enqueued in chunks; a message
finishes when it is fanned out and no row is queued or sending."""

from collections import defaultdict
from itertools import islice

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from comms.channels import get_transport
from comms.choices import Audience, DeliveryStatus, MessageState
from comms.delivery.locks import FAN_OUT_LOCKS, hold_lock, release_lock
from comms.models import Delivery, Message
from comms.models.delivery import new_token
from comms.publicity import may_make_public
from core.db import bound_cursor
from incidents import cadence
from incidents.choices import TimelineKind
from incidents.services import mark_public, record

INSERT_BATCH = 2000


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
                message = Message.objects.select_related("incident", "approver").get(pk=pk)
                if not may_make_public(message, message.approver):
                    # The incident became a security incident after a non-lead published this: a lead decides.
                    _hold_for_a_lead(message)
                    continue
                if message.audience == Audience.PUBLIC:
                    # The first public message a lead approved (or support published from a pre-approved
                    # template) is what makes a service incident public.
                    mark_public(message.incident, reason=f"with “{message.headline}”", at=now)
                    cadence.record_public_update(message.incident, now)
                # {next_update} in its text is this deadline, the one the cadence now tracks; never a time already
                # past (a message to accounts does not restart the public cadence).
                deadline = message.incident.next_update_due_at
                Message.objects.filter(pk=pk).update(
                    promised_next_update_at=deadline if deadline and deadline > now else None)
            complete_fan_out(message)
        finally:
            if locked:
                release_lock(FAN_OUT_LOCKS, pk)
        dispatched.append(pk)
    return dispatched


def _hold_for_a_lead(message: Message) -> None:
    """Back to waiting for approval, inside the claiming transaction (sending → submitted is no move of the
    state machine: nothing was sent, and the claim is undone in the same transaction)."""
    message.state, message.submitted_at = MessageState.SUBMITTED, timezone.now()
    message.dispatched_at = message.approver = message.approved_at = None
    # A save, not an update: post_save tells the leads it waits for them (comms.approvals).
    message.save(update_fields=["state", "dispatched_at", "approver", "approved_at", "submitted_at", "updated_at"])
    record(message.incident, TimelineKind.MESSAGE, f"“{message.headline}” held back: the incident is a security "
           "incident, which only a communications lead makes public; it waits for a lead's approval",
           message_id=message.pk)


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
        recipients = iter(get_transport(kind).recipients(message))
        created = 0
        while batch := list(islice(recipients, INSERT_BATCH)):
            with transaction.atomic():
                insert_deliveries(kind, batch, message_id=message.pk)
            created += len(batch)
            if on_chunk:
                on_chunk()
        counts[kind] = created
    return counts


# The columns a new delivery row names; the others are NULL or constants (DELIVERY_CONSTANTS). A test fails when a
# NOT NULL column of Delivery is in neither, as the PostgreSQL INSERT below would then fail on every fan-out.
DELIVERY_ARRAYS = {"recipient": "text", "subscriber_id": "bigint", "endpoint_id": "bigint", "code": "text"}


def delivery_constants(channel: str, message_id: int | None = None, notice_id: int | None = None) -> dict:
    return {"message_id": message_id, "notice_id": notice_id, "channel": channel, "status": DeliveryStatus.QUEUED,
            "attempts": 0, "in_reply_to": "", "body": "", "external_id": "", "last_error": "",
            "created_at": timezone.now()}


def insert_deliveries(channel: str, recipients, *, message_id: int | None = None,
                      notice_id: int | None = None) -> None:
    """One queued row per recipient of a message or of a maintenance notice, a repeat (message or notice, channel,
    recipient) skipped.

    On PostgreSQL one INSERT … SELECT FROM unnest(arrays) ON CONFLICT DO NOTHING per chunk: Django's bulk_create
    builds and prepares every field of every instance in Python, which cost more than the database's own work
    (about 250 µs a row: 200,000 recipients took 76 s to fan out; docs/benchmarks.md)."""
    if connection.vendor != "postgresql":
        Delivery.objects.bulk_create(
            [Delivery(message_id=message_id, notice_id=notice_id, channel=channel, recipient=r.address,
                      subscriber_id=r.subscriber_id, endpoint_id=r.endpoint_id) for r in recipients],
            ignore_conflicts=True,
        )
        return
    constants = delivery_constants(channel, message_id, notice_id)
    arrays = {
        "recipient": [r.address for r in recipients],
        "subscriber_id": [r.subscriber_id for r in recipients],
        "endpoint_id": [r.endpoint_id for r in recipients],
        "code": [new_token() for _ in recipients],
    }
    table = connection.ops.quote_name(Delivery._meta.db_table)
    columns = [Delivery._meta.get_field(name).column for name in (*arrays, *constants)]
    # The ids' type is named: a NULL parameter alone would be read as text.
    selected = [f"unnest(CAST(%b AS {DELIVERY_ARRAYS[name]}[]))" for name in arrays] + [
        "CAST(%s AS bigint)" if name in ("message_id", "notice_id") else "%s" for name in constants]
    with bound_cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(selected)} ON CONFLICT DO NOTHING",
            [*arrays.values(), *constants.values()],
        )


def enqueue_queued(message_id: int | None = None, delivery_ids=None, new_only: bool = False) -> int:
    """Enqueue send tasks for queued, due deliveries (of one message, or the given ids). Returns the count.

    new_only: only rows never enqueued (during fan-out, so a chunk's rows are not enqueued twice)."""
    from comms.tasks import send_deliveries

    now = timezone.now()
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    rows = Delivery.objects.filter(due, status=DeliveryStatus.QUEUED)
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
        size = settings.EMAIL_BATCH_SIZE if channel == "email" else get_transport(channel).batch_size
        for start in range(0, len(ids), size):
            chunk = ids[start : start + size]
            Delivery.objects.filter(pk__in=chunk).update(enqueued_at=now)
            send_deliveries.apply_async(args=[chunk])
            total += len(chunk)
    return total


def mark_enqueued(delivery_ids) -> None:
    Delivery.objects.filter(pk__in=delivery_ids, status=DeliveryStatus.QUEUED).update(enqueued_at=timezone.now())


OPEN_STATUSES = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING)


def finish_message_if_done(message_id: int) -> str | None:
    # Asked after every batch: while rows are open the answer is "not yet", found in the small partial index of open
    # rows, instead of counting all of the message's rows (200,000 of them, after each of 1,000 batches).
    if Delivery.objects.filter(message_id=message_id, status__in=OPEN_STATUSES).exists():
        return None
    counts = Delivery.objects.filter(message_id=message_id).aggregate(
        open=Count("pk", filter=Q(status__in=[DeliveryStatus.QUEUED, DeliveryStatus.SENDING])),
        sent=Count("pk", filter=Q(status=DeliveryStatus.SENT)),
        failed=Count("pk", filter=Q(status=DeliveryStatus.FAILED)),
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
