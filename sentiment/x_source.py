"""Mentions from X: each enabled XSearch is polled when due, page by page, through sentiment.ingest.

Nothing is fetched twice: since_id moves forward only when a poll has read every page. A poll cut short (the
rate limit, an error, the page cap) keeps its place in pending_next_token / pending_newest_id and the next
poll resumes there with the same since_id; a page stored twice on resume changes nothing (ingest is
idempotent). Outcomes are written on the search (status, last_error, next_poll_at) for the admin to show;
nothing raises out of poll_due_searches.
"""

import logging
from datetime import UTC, datetime, timedelta

import requests
import tweepy
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from core.validators import whole_number
from sentiment.choices import Source
from sentiment.ingest import ingest
from sentiment.models import XSearch

log = logging.getLogger(__name__)
Status = XSearch.Status

NOT_CONFIGURED = "X is not configured: set X_BEARER_TOKEN to search X for mentions."
PAGE_SIZE = 100
MAX_PAGES_PER_POLL = 10  # 1,000 posts; a longer backlog resumes at the next beat rather than outlive the task
RATE_LIMIT_FALLBACK = timedelta(minutes=15)  # X's rate-limit window, when the reset header is missing
REFUSED_RETRY = timedelta(hours=1)
RECENT_SEARCH_WINDOW = timedelta(days=7) - timedelta(minutes=10)  # X answers 400 to an older since_id
SNOWFLAKE_EPOCH_MS = 1288834974657

SEARCH_FIELDS = {
    "max_results": PAGE_SIZE,
    "expansions": ["author_id"],
    "user_fields": ["username", "name", "public_metrics"],
    "tweet_fields": ["created_at", "lang", "author_id"],
}
_POLL_FIELDS = ["pending_next_token", "pending_newest_id", "since_id", "status", "last_error", "last_polled_at",
                "next_poll_at"]


def due_searches(now=None) -> list[XSearch]:
    """Enabled searches whose next_poll_at has come (or is unset) and whose last poll is an interval old."""
    now = now or timezone.now()
    candidates = XSearch.objects.filter(enabled=True).filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))
    return [
        search for search in candidates.order_by("pk")
        if search.last_polled_at is None or search.last_polled_at <= now - timedelta(seconds=search.interval_seconds)
    ]


def poll_due_searches() -> int:
    """Poll every due search; returns how many were polled. Never raises: failures are recorded per search."""
    if not settings.X_BEARER_TOKEN:
        (XSearch.objects.filter(enabled=True).exclude(status=Status.NOT_CONFIGURED, last_error=NOT_CONFIGURED)
         .update(status=Status.NOT_CONFIGURED, last_error=NOT_CONFIGURED))
        return 0
    polled = 0
    for search in due_searches():
        if not _claim(search):
            continue  # another worker is polling it
        polled += 1
        try:
            poll(search)
        except Exception as error:  # a bug or an unexpected reply: record it, and poll the other searches
            log.exception("Polling X search %s (%s) failed", search.pk, search.name)
            _record(search, Status.FAILING, f"Polling failed unexpectedly: {error!r}",
                    timezone.now() + timedelta(seconds=search.interval_seconds))
    return polled


def _claim(search: XSearch) -> bool:
    """Push next_poll_at ahead for the length of a task, on the condition that nobody else did first."""
    lease = timezone.now() + timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    claimed = XSearch.objects.filter(pk=search.pk, next_poll_at=search.next_poll_at).update(next_poll_at=lease)
    search.next_poll_at = lease
    return claimed == 1


def poll(search: XSearch) -> int:
    """Read the search's new posts page by page into mentions; returns how many were created. Known X and
    network errors are recorded on the search, not raised."""
    if not settings.X_BEARER_TOKEN:
        _record(search, Status.NOT_CONFIGURED, NOT_CONFIGURED, None)
        return 0
    _forget_expired_since_id(search)
    client = tweepy.Client(bearer_token=settings.X_BEARER_TOKEN, wait_on_rate_limit=False)
    interval = timedelta(seconds=search.interval_seconds)
    created = 0
    try:
        for _ in range(MAX_PAGES_PER_POLL):
            response = client.search_recent_tweets(
                query=search.query,
                since_id=search.since_id or None,
                next_token=search.pending_next_token or None,
                **SEARCH_FIELDS,
            )
            meta = response.meta or {}
            items = mentions_from(response)
            if items:
                created += sum(result.status == "created" for result in ingest(items, default_source=Source.X))
            # The first page's newest_id is the newest post of the whole poll (pages go newest to oldest).
            search.pending_newest_id = search.pending_newest_id or str(meta.get("newest_id") or "")
            search.pending_next_token = str(meta.get("next_token") or "")
            search.save(update_fields=["pending_newest_id", "pending_next_token"])
            if not search.pending_next_token:
                break
        else:  # the page cap: keep the place and come back at the next beat
            _record(search, Status.OK, "", timezone.now())
            return created
    except tweepy.TooManyRequests as error:
        reset = _reset_time(error.response)
        _record(search, Status.WAITING,
                f"X rate limit reached (429): polling resumes at {reset:%Y-%m-%d %H:%M:%S} UTC where it stopped.",
                reset)
        return created
    except (tweepy.Unauthorized, tweepy.Forbidden) as error:
        _record(search, Status.FAILING,
                f"X refused the search ({error.response.status_code}): {_detail(error)}. "
                "Check X_BEARER_TOKEN and the app's access level; trying again in an hour.",
                timezone.now() + REFUSED_RETRY)
        return created
    except tweepy.HTTPException as error:  # 400 (e.g. the query), 404, 5xx
        _record(search, Status.FAILING, f"X search failed ({error.response.status_code}): {_detail(error)}",
                timezone.now() + interval)
        return created
    except requests.RequestException as error:
        _record(search, Status.FAILING, f"X could not be reached: {error}", timezone.now() + interval)
        return created

    now = timezone.now()
    if search.pending_newest_id:  # an empty result has no newest_id: since_id stays as it was
        search.since_id = search.pending_newest_id
    search.pending_newest_id = search.pending_next_token = ""
    search.last_polled_at = now
    _record(search, Status.OK, "", now + interval)
    return created


def mentions_from(response) -> list[dict]:
    """Mention dicts for ingest from one page of search_recent_tweets (tweets + the author_id expansion)."""
    users = {str(user.data["id"]): user.data for user in (response.includes or {}).get("users", [])}
    items = []
    for tweet in response.data or []:
        tweet = tweet.data
        user = users.get(str(tweet.get("author_id")), {})
        username = user.get("username", "")
        items.append({
            "source": Source.X,
            "external_id": str(tweet["id"]),
            "text": tweet.get("text", ""),
            "posted_at": tweet.get("created_at"),
            "author_handle": username,
            "author_name": user.get("name", ""),
            "author_followers": (user.get("public_metrics") or {}).get("followers_count"),
            "url": f"https://x.com/{username}/status/{tweet['id']}" if username else "",
            "language": tweet.get("lang", ""),
        })
    return items


def tweet_time(tweet_id: str) -> datetime:
    """When a post was created, from its id (X ids are snowflakes: milliseconds since X's epoch, shifted)."""
    return datetime.fromtimestamp(((int(tweet_id) >> 22) + SNOWFLAKE_EPOCH_MS) / 1000, tz=UTC)


def _forget_expired_since_id(search: XSearch) -> None:
    """Recent search only reaches 7 days back and answers 400 to an older since_id (a search left disabled
    for a week). Start that search afresh: it reads the last 7 days again, which ingest deduplicates."""
    if whole_number(search.since_id or "") is None:
        return
    if tweet_time(search.since_id) > timezone.now() - RECENT_SEARCH_WINDOW:
        return
    log.info("X search %s: since_id %s is older than the recent-search window; starting afresh",
             search.pk, search.since_id)
    search.since_id = search.pending_next_token = search.pending_newest_id = ""
    search.save(update_fields=["since_id", "pending_next_token", "pending_newest_id"])


def _reset_time(response) -> datetime:
    reset = (response.headers.get("x-rate-limit-reset") or "").strip() if response is not None else ""
    moment = whole_number(reset)  # ASCII digits only: "²" passed str.isdigit() and broke int()
    now = timezone.now()
    if moment is not None and now.timestamp() - 86_400 < moment < now.timestamp() + 86_400:
        return datetime.fromtimestamp(moment, tz=UTC)  # a reset far off (or past the year 9999) is not believed
    return now + RATE_LIMIT_FALLBACK


def _detail(error: tweepy.HTTPException) -> str:
    return "; ".join(error.api_messages) or error.response.reason or "no detail given"


def _record(search: XSearch, status: str, error: str, next_poll_at) -> None:
    search.status, search.last_error, search.next_poll_at = status, error, next_poll_at
    search.save(update_fields=_POLL_FIELDS)
