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
