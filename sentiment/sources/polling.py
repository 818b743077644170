"""What every network's poller shares: which searches are due, claiming one, and writing its outcome.

A network module gives poll_due_searches its network, whether it is configured (and the sentence saying what
to set when it is not) and its poll(search) function. poll raises PollStopped for a known failure (a rate
limit, a refusal, an outage); anything else is recorded as an unexpected failure. Nothing raises out of
poll_due_searches: the other searches are still polled.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from comms.channels.base import Refusal
from sentiment.ingest import scoring_in_batches
from sentiment.sources.models import SocialSearch

log = logging.getLogger(__name__)
Status = SocialSearch.Status

REFUSED_RETRY = timedelta(hours=1)  # credentials refused: someone has to act; ask again in an hour
_POLL_FIELDS = ["cursor", "pending_cursor", "pending_newest", "status", "last_error", "last_polled_at",
                "next_poll_at"]


class PollStopped(Exception):
    """A poll stopped by the network: record this status and message, and poll again at next_poll_at."""

    def __init__(self, status: str, message: str, next_poll_at: datetime):
        super().__init__(message)
        self.status, self.message, self.next_poll_at = status, message, next_poll_at


def due_searches(network: str, now=None) -> list[SocialSearch]:
    now = now or timezone.now()
    candidates = (SocialSearch.objects.filter(network=network, enabled=True)
                  .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now)))
    return [
        search for search in candidates.order_by("pk")
        if search.last_polled_at is None or search.last_polled_at <= now - timedelta(seconds=search.interval_seconds)
    ]


def poll_due_searches(network: str, configured: bool, not_configured: str,
                      poll: Callable[[SocialSearch], int]) -> int:
    """Poll every due search of the network; returns how many were polled."""
    if not configured:
        (SocialSearch.objects.filter(network=network, enabled=True)
         .exclude(status=Status.NOT_CONFIGURED, last_error=not_configured)
         .update(status=Status.NOT_CONFIGURED, last_error=not_configured))
        return 0
    polled = 0
    for search in due_searches(network):
        if not claim(search):
            continue  # another worker is polling it
        polled += 1
        poll_and_record(search, poll)
    return polled


def poll_and_record(search: SocialSearch, poll: Callable[[SocialSearch], int]) -> int:
    """Poll one search and record its outcome; never raises. Returns how many mentions were created."""
    try:
        with scoring_in_batches():  # scored a thousand at a time, not a task per page
            return poll(search)
    except PollStopped as stopped:
        record(search, stopped.status, stopped.message, stopped.next_poll_at)
    except Exception as error:  # a bug or an unexpected reply: record it, and poll the other searches
        log.exception("Polling %s search %s (%s) failed", search.network, search.pk, search.name)
        record(search, Status.FAILING, f"Polling failed unexpectedly: {error!r}", after_interval(search))
    return 0


def claim(search: SocialSearch) -> bool:
    """Push next_poll_at ahead for the length of a task, on the condition that nobody else did first."""
    lease = timezone.now() + timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    claimed = SocialSearch.objects.filter(pk=search.pk, next_poll_at=search.next_poll_at).update(next_poll_at=lease)
    search.next_poll_at = lease
    return claimed == 1


def after_interval(search: SocialSearch) -> datetime:
    return timezone.now() + timedelta(seconds=search.interval_seconds)


def record(search: SocialSearch, status: str, error: str, next_poll_at, *, polled: bool = False) -> None:
    search.status, search.last_error, search.next_poll_at = status, error, next_poll_at
    if polled:
        search.last_polled_at = timezone.now()
    search.save(update_fields=_POLL_FIELDS)


def save_progress(search: SocialSearch, *more: str) -> None:
    search.save(update_fields=["cursor", "pending_cursor", "pending_newest", *more])


RATE_LIMIT_FALLBACK = timedelta(minutes=5)  # when a network says "too many" but not for how long


def stopped_by(search: SocialSearch, error) -> PollStopped:
    """A channel's TransportError as the poll's outcome: a rate limit waits (for as long as the network said),
    a refusal (a permanent error) is tried again in an hour, anything else at the next interval."""
    now = timezone.now()
    if error.retry_after is not None or error.refusal == Refusal.RATE_LIMIT:
        resume = now + (timedelta(seconds=error.retry_after) if error.retry_after else RATE_LIMIT_FALLBACK)
        return PollStopped(Status.WAITING, f"{error}: polling resumes at {resume:%Y-%m-%d %H:%M:%S} UTC.", resume)
    if error.permanent:
        return PollStopped(Status.FAILING, f"{error}; trying again in an hour.", now + REFUSED_RETRY)
    return PollStopped(Status.FAILING, f"{error}; trying again at the next interval.", after_interval(search))
