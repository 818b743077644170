"""Notices about maintenance windows, each to every subscriber of the affected components (and every webhook)
exactly once, through the delivery machinery messages use (Delivery rows, claim, send, sweep).

Beat (comms.tasks.run_maintenance_windows) plans what is due from the database — nothing waits in the broker:

- advance notices MAINTENANCE_NOTICE_OFFSETS before the start (72 h and 1 h by default) of an approved, scheduled
  window; when several offsets are due at once (a window approved 10 hours before it starts) only the nearest goes
  out and the others are kept as skipped, so nobody gets two reminders in one minute;
- a notice when it started and when it completed;
- a notice when it was rescheduled (once the new times are approved) or cancelled — only to people who were told of
  it before: a window nobody was told of moves or goes away silently.

Each notice is one MaintenanceNotice row, unique per window and key (kind, offset, schedule version), created with
its Delivery rows in one transaction: a notice exists once, and its deliveries once per channel and recipient. The
rows are enqueued after commit; send_deliveries claims them like any others, and sweep_deliveries re-enqueues any
that were lost. Every notice is the lead-approved text of the window under a first line written from the facts."""

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from comms.channels import get_transport
from comms.channels.base import Recipient
from comms.channels.email import subscriber_recipients
from comms.channels.sms import subscriber_recipients as sms_recipients
from comms.channels.subscriber_hooks import endpoint_recipients
from comms.choices import DeliveryStatus
from comms.delivery.dispatch import INSERT_BATCH, enqueue_queued, insert_deliveries
from comms.maintenance.rendering import first_line
from comms.models import Delivery, MaintenanceNotice, MaintenanceNoticeKind, WebhookEndpoint
from incidents.choices import MaintenanceApproval, MaintenanceEventKind, MaintenanceState
from incidents.maintenance import record
from incidents.models import Maintenance

NOTICE_CHANNELS = ("email", "subscriber_hooks", "sms", "webhook")
# Started, completed and cancelled windows are looked at for this long after the fact (a beat that was down).
CATCH_UP = timezone.timedelta(days=2)


def send_due_notices(now=None) -> int:
    """Create and fan out every notice that is due. Returns how many were created (0 when run again)."""
    now = now or timezone.now()
    created = 0
    for maintenance, kind, key, offset in due_notices(now):
        created += bool(_create_notice(maintenance, kind, key, offset, now))
    finish_notices()
    return created


def due_notices(now):
    """(window, kind, key, offset seconds or None) of each notice due now; existing ones are dropped on creation."""
    offsets = settings.MAINTENANCE_NOTICE_OFFSETS
    horizon = now + timezone.timedelta(seconds=max(offsets, default=0))
    windows = (
        Maintenance.objects.filter(
            Q(approval=MaintenanceApproval.APPROVED, state=MaintenanceState.SCHEDULED, scheduled_for__lte=horizon)
            | Q(approval=MaintenanceApproval.APPROVED, state=MaintenanceState.SCHEDULED, schedule_version__gt=0,
                approved_at__gte=now - CATCH_UP)  # rescheduled further out: the move is news now
            | Q(approval=MaintenanceApproval.APPROVED, state__in=(MaintenanceState.IN_PROGRESS,
                                                                    MaintenanceState.VERIFYING))
            | Q(approval=MaintenanceApproval.APPROVED, state=MaintenanceState.COMPLETED,
                completed_at__gte=now - CATCH_UP)
            | Q(state=MaintenanceState.CANCELLED, published_at__isnull=False, cancelled_at__gte=now - CATCH_UP)
        )
        .prefetch_related("notices")
        .order_by("pk")
    )
    for maintenance in windows:
        notices = {notice.key: notice for notice in maintenance.notices.all()}
        told = any(not notice.skipped for notice in notices.values())
        version = maintenance.schedule_version
        if maintenance.state == MaintenanceState.CANCELLED:
            if told:
                yield maintenance, MaintenanceNoticeKind.CANCELLED, "cancelled", None
            continue
        if maintenance.state == MaintenanceState.SCHEDULED:
            rescheduled_key = f"rescheduled:v{version}"
            told_before = any(not notice.skipped and not notice.key.endswith(f":v{version}")
                              for notice in notices.values())
            if version and told_before and rescheduled_key not in notices:
                # The move is the news; reminders already due at this moment are covered by it.
                yield maintenance, MaintenanceNoticeKind.RESCHEDULED, rescheduled_key, None
            if maintenance.scheduled_for > now:
                for offset in offsets:  # longest first; all but the last due one are skipped
                    if maintenance.scheduled_for - timezone.timedelta(seconds=offset) <= now:
                        yield maintenance, MaintenanceNoticeKind.ADVANCE, f"advance:{offset}:v{version}", offset
            continue
        if maintenance.started_at is not None:
            yield maintenance, MaintenanceNoticeKind.STARTED, "started", None
        if maintenance.state == MaintenanceState.COMPLETED:
            yield maintenance, MaintenanceNoticeKind.COMPLETED, "completed", None


def _create_notice(maintenance: Maintenance, kind: str, key: str, offset, now) -> MaintenanceNotice | None:
    """The notice and its delivery rows, in one transaction; None when it exists already."""
    if MaintenanceNotice.objects.filter(maintenance=maintenance, key=key).exists():
        return None
    with transaction.atomic():
        skipped = kind == MaintenanceNoticeKind.ADVANCE and _overtaken(maintenance, offset, now)
        if kind == MaintenanceNoticeKind.ADVANCE and not skipped:
            offset = int((maintenance.scheduled_for - now).total_seconds())  # the time left, not the offset
        notice, created = MaintenanceNotice.objects.get_or_create(
            maintenance=maintenance, key=key,
            defaults={"kind": kind, "first_line": first_line(kind, maintenance, offset, now)[:300],
                      "skipped": skipped, "fanned_out_at": now if skipped else None,
                      "finished_at": now if skipped else None},
        )
        if not created or skipped:
            return notice if created else None
        counts = _fan_out(notice, maintenance)
        MaintenanceNotice.objects.filter(pk=notice.pk).update(fanned_out_at=timezone.now())
        summary = ", ".join(f"{count:,} on {channel}" for channel, count in counts.items() if count) or "no recipients"
        record(maintenance, MaintenanceEventKind.NOTICE, f"Notice “{notice.first_line}” sending: {summary}",
               notice_id=notice.pk, recipients=counts)
        notice_id = notice.pk
        transaction.on_commit(lambda: _enqueue(notice_id), robust=True)  # the sweeper enqueues them if this fails
    return notice


def _overtaken(maintenance: Maintenance, offset: int, now) -> bool:
    """An advance notice is skipped when a nearer one is due too, or a reschedule notice just said it all."""
    nearer = [other for other in settings.MAINTENANCE_NOTICE_OFFSETS
              if other < offset and maintenance.scheduled_for - timezone.timedelta(seconds=other) <= now]
    if nearer:
        return True
    version = maintenance.schedule_version
    rescheduled = MaintenanceNotice.objects.filter(maintenance=maintenance, key=f"rescheduled:v{version}").first()
    return bool(rescheduled and maintenance.scheduled_for - timezone.timedelta(seconds=offset)
                <= rescheduled.created_at)


def recipients(maintenance: Maintenance):
    """(channel, address, subscriber id, endpoint id): confirmed subscribers of its components (or of everything)
    by email, by their Slack, Teams, Discord or webhook endpoint and, when SMS is configured, by text message; and
    every active internal webhook endpoint."""
    for recipient in subscriber_recipients(maintenance):  # reads .components: a window has them as an incident does
        yield "email", recipient.address, recipient.subscriber_id, None
    for recipient in endpoint_recipients(maintenance):
        yield "subscriber_hooks", recipient.address, None, None
    if get_transport("sms").is_configured():
        for recipient in sms_recipients(maintenance):
            yield "sms", recipient.address, None, None
    for endpoint_id in WebhookEndpoint.objects.filter(active=True).order_by("pk").values_list("pk", flat=True):
        yield "webhook", f"endpoint:{endpoint_id}", None, endpoint_id


def _fan_out(notice: MaintenanceNotice, maintenance: Maintenance) -> dict[str, int]:
    """The notice's rows, written as a message's are (insert_deliveries), in chunks per channel."""
    by_channel: dict[str, list[Recipient]] = {channel: [] for channel in NOTICE_CHANNELS}
    for channel, address, subscriber_id, endpoint_id in recipients(maintenance):
        by_channel[channel].append(Recipient(address=address, subscriber_id=subscriber_id, endpoint_id=endpoint_id))
    for channel, found in by_channel.items():
        for start in range(0, len(found), INSERT_BATCH):
            insert_deliveries(channel, found[start:start + INSERT_BATCH], notice_id=notice.pk)
    return {channel: len(found) for channel, found in by_channel.items()}


def _enqueue(notice_id: int) -> int:
    ids = list(Delivery.objects.filter(notice_id=notice_id, status=DeliveryStatus.QUEUED, enqueued_at__isnull=True)
               .values_list("pk", flat=True))
    return enqueue_queued(delivery_ids=ids, new_only=True) if ids else 0


def finish_notices() -> int:
    """Notices with every row sent, failed or skipped are finished, with the count on the window's timeline."""
    finished = 0
    open_notices = MaintenanceNotice.objects.filter(finished_at__isnull=True, fanned_out_at__isnull=False)
    for notice in open_notices.select_related("maintenance"):
        counts = Delivery.objects.filter(notice=notice).aggregate(
            open=Count("pk", filter=Q(status__in=[DeliveryStatus.QUEUED, DeliveryStatus.SENDING])),
            sent=Count("pk", filter=Q(status=DeliveryStatus.SENT)),
            failed=Count("pk", filter=Q(status=DeliveryStatus.FAILED)),
        )
        if counts["open"]:
            continue
        if not MaintenanceNotice.objects.filter(pk=notice.pk, finished_at__isnull=True).update(
                finished_at=timezone.now()):
            continue
        record(notice.maintenance, MaintenanceEventKind.NOTICE,
               f"Notice “{notice.first_line}” finished: {counts['sent']:,} delivered, {counts['failed']:,} failed",
               notice_id=notice.pk, sent=counts["sent"], failed=counts["failed"])
        finished += 1
    return finished
