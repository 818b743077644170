"""Thin tasks: they take ids, call a service, and let the database say what is left to do."""


from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection

from comms import delivery, overdue


@shared_task(ignore_result=True)
def dispatch_due_messages() -> list[int]:
    """Beat, every few seconds: claim scheduled messages whose time has come and fan them out."""
    return delivery.dispatch_due_messages()


@shared_task(bind=True, ignore_result=True, max_retries=None)
def send_deliveries(self, delivery_ids: list[int]) -> dict:
    """Send a batch. Transient failures come back within CELERY_MAX_COUNTDOWN; longer waits go to the sweeper."""
    try:
        outcome = delivery.send_deliveries(delivery_ids)
    except (OperationalError, InterfaceError) as error:
        # The database was unreachable (longer than the recorder waits for it). Rows this task had not claimed
        # are claimed by the retry; rows it had claimed and not recorded stay claimed under a lock that ended
        # with its session, and the sweeper gives them back to the queue.
        connection.close()
        raise self.retry(countdown=min(5 * 2 ** self.request.retries, settings.CELERY_MAX_COUNTDOWN),
                         exc=error) from None
    # Rows due within a broker countdown come back in one retry, timed for the last of them; rows with a
    # longer wait (an X rate-limit reset) stay unenqueued and the sweeper sends them once they are due.
    soon = {pk: delay for pk, delay in outcome.retry_in_seconds.items() if delay <= settings.CELERY_MAX_COUNTDOWN}
    if soon:
        delivery.mark_enqueued(list(soon))
        raise self.retry(args=[list(soon)], countdown=max(soon.values()))
    return {"sent": outcome.sent, "failed": outcome.failed, "skipped": outcome.skipped,
            "waiting": len(outcome.retry_in_seconds)}


@shared_task(ignore_result=True)
def sweep_deliveries() -> dict:
    """Beat, every 30 s: rescue stale claims, re-enqueue due retries and lost messages, finish messages."""
    return delivery.sweep_deliveries()


@shared_task(ignore_result=True)
def remind_overdue_updates() -> int:
    """Beat, every minute: remind communications leads of overdue public updates, once per period."""
    return overdue.remind_overdue()


@shared_task(ignore_result=True)
def send_subscription_confirmation(subscriber_id: int) -> None:
    from comms.subscriptions import send_confirmation

    send_confirmation(subscriber_id)


@shared_task(bind=True, ignore_result=True, max_retries=3)
def send_endpoint_confirmation(self, endpoint_id: int) -> None:
    """The message carrying the code to a subscriber's webhook (comms.endpoints.subscriptions); a transient failure
    is tried again a few times, a permanent one is shown on the confirmation page."""
    from comms.channels import TransportError
    from comms.endpoints.subscriptions import send_confirmation

    try:
        send_confirmation(endpoint_id)
    except TransportError as error:
        raise self.retry(countdown=min(120, max(10, error.retry_after or 0)), exc=error) from None


@shared_task(ignore_result=True)
def run_maintenance_windows() -> dict:
    """Beat, every 30 s: start and end maintenance windows whose time has come (their components with them), then
    send the notices that are due. Both read the database; running it twice changes nothing."""
    from comms.maintenance.notices import send_due_notices
    from incidents.maintenance import move_due_windows

    moved = move_due_windows()
    return {**moved, "notices": send_due_notices()}


@shared_task(ignore_result=True)
def prune_old_deliveries() -> int:
    """Beat, hourly: summarise and delete the delivery rows of messages finished longer ago than
    DELIVERY_RETENTION_DAYS, at most PRUNE_PER_RUN rows a run (comms.retention)."""
    from comms.retention import PRUNE_PER_RUN
    from comms.retention import prune_old_deliveries as prune

    return prune(limit=PRUNE_PER_RUN)
