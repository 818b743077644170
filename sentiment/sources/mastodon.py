"""Mentions from Mastodon: mentions of our account (GET /api/v1/notifications?types[]=mention), a hashtag's
timeline (GET /api/v1/timelines/tag/:hashtag) or a keyword search (GET /api/v2/search?type=statuses), polled.

Each page is asked for with min_id = the search's cursor (the newest id stored so far): Mastodon answers the
statuses right after it, and the cursor moves to the page's newest id once the page is stored. A poll cut short
(the rate limit, an outage, the page cap) simply resumes from the cursor. A new search starts from now: its
first poll reads only the newest page.
"""

import html
import re
from datetime import UTC, datetime, timedelta

import requests
from django.conf import settings
from django.utils import timezone
from django.utils.html import strip_tags
from mastodon import (
    MastodonAPIError,
    MastodonNetworkError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)

from comms.channels.mastodon import mastodon_client
from core.outbound import OutboundRefused, check_url
from sentiment.choices import Source
from sentiment.ingest import ingest, usable_url
from sentiment.sources import polling
from sentiment.sources.models import SocialSearch

NETWORK = SocialSearch.Network.MASTODON
Kind, Status = SocialSearch.Kind, SocialSearch.Status
NOT_CONFIGURED = ("Mastodon is not configured: set MASTODON_API_BASE_URL and MASTODON_ACCESS_TOKEN (scopes "
                  "read:notifications and read:search) to read mentions.")
PAGE_SIZE = 40  # Mastodon's maximum
MAX_PAGES_PER_POLL = 25  # 1,000 statuses; a longer backlog resumes at the next beat
STORE_EVERY = 200  # mentions stored in one transaction, with the cursor past them
RATE_LIMIT_FALLBACK = timedelta(minutes=5)  # Mastodon's window, when the reset header is missing
_BREAKS = re.compile(r"<br\s*/?>|</p>\s*<p>", re.IGNORECASE)


def poll_due_searches() -> int:
    return polling.poll_due_searches(NETWORK, settings.MASTODON_CONFIGURED, NOT_CONFIGURED, poll)


def poll(search: SocialSearch) -> int:
    """Read the search's new statuses page by page into mentions; returns how many were created. Known
    failures raise polling.PollStopped after the pages already read are stored and the cursor saved."""
    try:
        check_url(settings.MASTODON_API_BASE_URL)
    except OutboundRefused as refusal:
        raise polling.PollStopped(Status.FAILING, f"EARS does not read from MASTODON_API_BASE_URL: {refusal}.",
                                  timezone.now() + polling.REFUSED_RETRY) from None
    # Pages of statuses are larger than the outbound guard's answer limit: a plain session, checked above.
    session = requests.Session()
    session.trust_env = False
    # Statuses are read by key: no typed entities (5 ms of CPU each), except for a keyword search, whose offset
    # pagination Mastodon.py reads by attribute.
    client = mastodon_client(session=session, typed=search.kind == Kind.KEYWORDS)
    pages = Pages(search)
    try:
        try:
            for _ in range(MAX_PAGES_PER_POLL):
                items = fetch_page(client, search, pages.after)
                if not items:
                    break
                statuses = [item["status"] for item in items] if search.kind == Kind.MENTIONS else items
                pages.read([mention_from(status) for status in statuses if status and not status.get("reblog")],
                           max(int(item["id"]) for item in items))
                if not search.cursor or len(items) < PAGE_SIZE:  # a new search reads its newest page only
                    break
        finally:  # what was read is stored, and the cursor moves past it, also when a page was refused
            pages.store()
    except MastodonRatelimitError:
        reset = client.ratelimit_reset
        resume = (datetime.fromtimestamp(reset, tz=UTC) if isinstance(reset, int | float)
                  else timezone.now() + RATE_LIMIT_FALLBACK)
        raise polling.PollStopped(
            Status.WAITING, f"Mastodon rate limit reached (429): polling resumes at {resume:%Y-%m-%d %H:%M:%S} UTC "
            "where it stopped.", resume) from None
    except MastodonUnauthorizedError:
        raise polling.PollStopped(
            Status.FAILING, "Mastodon refused the access token (401): check MASTODON_ACCESS_TOKEN and its scopes "
            "read:notifications and read:search; trying again in an hour.",
            timezone.now() + polling.REFUSED_RETRY) from None
    except MastodonServerError as error:
        raise polling.PollStopped(Status.FAILING, f"Mastodon server error ({error.args[1]}); trying again at the "
                                  "next interval from where it stopped.", polling.after_interval(search)) from None
    except MastodonAPIError as error:  # 403 (scope), 404 (hashtag timelines off), 422
        raise polling.PollStopped(
            Status.FAILING, f"Mastodon refused the search ({error.args[1] if len(error.args) > 1 else '?'}): "
            f"{error.args[3] if len(error.args) > 3 else error}", timezone.now() + polling.REFUSED_RETRY) from None
    except MastodonNetworkError as error:
        raise polling.PollStopped(Status.FAILING, f"Mastodon could not be reached: {error}",
                                  polling.after_interval(search)) from None
    polling.record(search, Status.OK, "", polling.after_interval(search), polled=True)
    return pages.created


class Pages:
    """Pages read, stored STORE_EVERY mentions at a time (a page of 40 in a transaction of its own, with a cursor saved
    after it, cost a fifth of a status's polling): the mentions, then the cursor past them, so a poll stopped before
    store() leaves the cursor where the stored mentions end."""

    def __init__(self, search: SocialSearch):
        self.search, self.after, self.found, self.created = search, search.cursor, [], 0

    def read(self, found: list[dict], newest: int) -> None:
        self.found += found
        self.after = str(newest)
        if len(self.found) >= STORE_EVERY:
            self.store()

    def store(self) -> None:
        if self.found:
            results = ingest(self.found, default_source=Source.MASTODON)
            self.created += sum(result.status == "created" for result in results)
            self.found = []
        if self.after != self.search.cursor:
            self.search.cursor = self.after
            polling.save_progress(self.search)


def fetch_page(client, search: SocialSearch, after: str) -> list:
    """One page right after `after`, a status id (the newest page when it is empty)."""
    since = {"min_id": after} if after else {}
    if search.kind == Kind.MENTIONS:
        return client.notifications(types=["mention"], limit=PAGE_SIZE, **since)
    if search.kind == Kind.HASHTAG:
        return client.timeline_hashtag(search.query, limit=PAGE_SIZE, **since)
    return client.search_v2(search.query, result_type="statuses", resolve=False, limit=PAGE_SIZE,
                            **since)["statuses"]


def plain_text(content: str) -> str:
    """A status's HTML as the words people read: line breaks kept, tags dropped, entities decoded."""
    return html.unescape(strip_tags(_BREAKS.sub("\n", content or ""))).strip()


def mention_from(status) -> dict:
    account = status.get("account") or {}
    followers = account.get("followers_count")
    parent_id = status.get("in_reply_to_id")
    return {
        "source": Source.MASTODON,
        "external_id": str(status["id"]),
        "text": plain_text(status.get("content", "")) or status.get("spoiler_text") or "(no text)",
        "posted_at": status.get("created_at"),
        "author_handle": account.get("acct", ""),
        "author_name": account.get("display_name", "")[:200],
        "author_followers": followers if isinstance(followers, int) and followers >= 0 else None,
        "url": status.get("url") or status.get("uri") or "",
        "language": status.get("language") or "",
        "in_reply_to_id": str(parent_id) if parent_id else "",
        "in_reply_to_url": usable_url(parent_url(status)) if parent_id else "",
    }


def parent_url(status) -> str:
    """The page of the status this one replies to, on our instance (/@acct/id, which shows remote statuses too); ""
    when its author's acct is not known. A status gives only the parent's ids: the author is found among the people
    it mentions (a reply mentions whom it answers) or is the replier, answering themselves."""
    author_id = str(status.get("in_reply_to_account_id") or "")
    people = [status.get("account") or {}, *(status.get("mentions") or [])]
    acct = next((person.get("acct") for person in people if author_id and str(person.get("id") or "") == author_id
                 and person.get("acct")), None)
    if acct is None:
        return ""
    return f"{settings.MASTODON_API_BASE_URL.rstrip('/')}/@{acct}/{status['in_reply_to_id']}"
