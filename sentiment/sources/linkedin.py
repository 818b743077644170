"""Comments on our LinkedIn organization page's posts, polled: the organization's latest posts (GET
/rest/posts?q=author), then each one's comments (GET /rest/socialActions/{post-urn}/comments, newest first), then
the replies under the comments whose reply count went up (GET /rest/socialActions/{comment-urn}/comments: LinkedIn
lists a post's first-level comments only, each with its commentsSummary). The token needs r_organization_social
(docs/operations.md).

The search's cursor is the newest first-level comment time read, held a minute behind the poll's start and never
moved back (a comment written while a poll reads other posts is read by the next; one read twice is a duplicate and
changes nothing).
A poll reads every watched post down to the cursor and stores what is newer; comments stored before a rate limit or
an outage stopped the poll stay stored (ingest is idempotent by source and comment id), and the cursor moves only
when a poll has read every post, so the next poll reads again what the stopped one had not. A new search starts from
now. The organization's own comments are left out.

Replies: the search keeps each watched comment's reply count (reply_counts, the latest 2,000 threads with replies).
A thread whose count went up is read, every reply since its last reading stored (ten minutes' overlap: LinkedIn's
clock and ours may differ; a repeat is a duplicate), at most REPLY_THREADS_PER_POLL threads a poll and each once, the
rest at the next poll; a poll stopped by a rate limit keeps the counts of the threads it read. A thread LinkedIn
refuses or fails on (a comment deleted meanwhile, a 5xx) is passed over and tried again at the next poll; a rate
limit, a refused token or permission, or LinkedIn out of reach stops the poll as any request does. Only comments on
the pages a poll reads are watched: a new reply under a comment older than those (past the newest 50 of a post, or
older than the cursor beyond them) is not read.

Each mention keeps its thread (the comment it answers, for a reply under a comment, else the post) and, in
network_ref, "<post URN> <comment URN>": what the channel needs to answer it under the same comment
(comms/channels/linkedin.py). LinkedIn threads are two levels deep, so a reply to a reply is answered under the
first-level comment, as LinkedIn's own page does.
"""

import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from comms.channels.base import TransportError
from comms.channels.linkedin import COMMENT_URN, organization_urn, rest_request
from core.outbound import API_READ_LIMIT_BYTES, OutboundSession
from sentiment.choices import Source
from sentiment.ingest import REF_LIMIT, ingest, usable_url
from sentiment.sources import polling
from sentiment.sources.models import SocialSearch

log = logging.getLogger(__name__)

NETWORK = SocialSearch.Network.LINKEDIN
Status = SocialSearch.Status
NOT_CONFIGURED = ("LinkedIn is not configured: set LINKEDIN_ORGANIZATION_ID and LINKEDIN_ACCESS_TOKEN "
                  "(r_organization_social) to read comments.")
POSTS_WATCHED = 20
COMMENTS_PAGE_SIZE = 50
MAX_COMMENT_PAGES = 4  # per post or thread, and poll
REPLY_THREADS_PER_POLL = 25  # threads whose replies a poll reads; the others wait for the next
MAX_THREADS_KEPT = 2000  # reply counts kept per search, the latest
CURSOR_OVERLAP = timedelta(minutes=1)  # the cursor stays this far behind the poll's start
REPLY_OVERLAP = timedelta(minutes=10)  # replies read again before a thread's last reading (clocks differ)


def poll_due_searches() -> int:
    return polling.poll_due_searches(NETWORK, settings.LINKEDIN_CONFIGURED, NOT_CONFIGURED, poll)


def poll(search: SocialSearch) -> int:
    started = timezone.now()
    since = parse_datetime(search.cursor) if search.cursor else None
    http = OutboundSession(response_limit=API_READ_LIMIT_BYTES)  # 50 comments of a kilobyte and more each
    created, newest = 0, since
    threads = Threads(search.reply_counts, first_poll=since is None, started=started)
    try:
        posts = rest_request(http, "GET", "posts", doing="read the page's posts", params={
            "q": "author", "author": organization_urn(), "count": POSTS_WATCHED, "sortBy": "LAST_MODIFIED"}).json()
        for post in posts.get("elements") or []:
            urn = post.get("id") if isinstance(post, dict) else None
            if not isinstance(urn, str):
                continue
            comments = comments_since(http, urn, since, threads)
            newest = max([comment_time(comment) for comment in comments] + ([newest] if newest else []), default=None)
            comments += threads.read_replies(http)
            found = [mention_from(urn, comment) for comment in comments if comment.get("actor") != organization_urn()]
            if since is not None and found:  # a new search starts from now: its first poll only sets the cursor
                created += sum(result.status == "created"
                               for result in ingest(found, default_source=Source.LINKEDIN))
    except TransportError as error:
        keep_threads_read(search, threads)
        raise polling.stopped_by(search, error) from None
    except ValueError:  # an answer that is not JSON
        keep_threads_read(search, threads)
        raise polling.PollStopped(Status.FAILING, "LinkedIn answered something that is not JSON; trying again at "
                                  "the next interval.", polling.after_interval(search)) from None
    if since is None:  # a new search starts from now: from the newest comment seen when LinkedIn's clock is a little
        # ahead of ours; one dated further ahead is a wrong time, not the start (it would hide what comes next)
        ahead = newest is not None and started < newest <= started + CURSOR_OVERLAP
        search.cursor = (newest if ahead else started).isoformat()
    else:  # never back: a comment written while this poll read others is after since and after this cursor too
        search.cursor = max(since, min(newest or started, started - CURSOR_OVERLAP)).isoformat()
    search.reply_counts = threads.kept()
    polling.save_progress(search, "reply_counts")
    polling.record(search, Status.OK, "", polling.after_interval(search), polled=True)
    return created


def keep_threads_read(search: SocialSearch, threads: "Threads") -> None:
    """A stopped poll keeps the counts of the threads it read, so that the next one does not read them again."""
    search.reply_counts = threads.kept(stopped=True)
    search.save(update_fields=["reply_counts"])


def comments_since(http, post_urn: str, since: datetime | None, threads: "Threads") -> list[dict]:
    """The post's first-level comments newer than since (all of its first page for a new search), newest first;
    every comment read is shown to threads, which picks those whose replies to read."""
    found = []
    for page in range(MAX_COMMENT_PAGES):
        elements = _page(http, post_urn, page)
        threads.seen(elements)
        newer = [element for element in elements if since is None or comment_time(element) > since]
        found.extend(newer)
        if len(newer) < len(elements) or len(elements) < COMMENTS_PAGE_SIZE or since is None:
            break
    return found


class Threads:
    """Which comments' replies a poll reads: those whose reply count (commentsSummary.aggregatedTotalComments) is
    higher than the count kept from the polls before, at most REPLY_THREADS_PER_POLL in the whole poll, each once.
    Of a thread read, the replies since it was last read (REPLY_OVERLAP before: LinkedIn's clock and ours may differ;
    all of them for a comment first seen with replies after the search's first poll). A new search only learns the
    counts. kept(): comment URN → [count, when its replies were last read (or it was first seen)], for comments with
    replies, the latest MAX_THREADS_KEPT."""

    def __init__(self, kept, first_poll: bool, started: datetime):
        self.before = {urn: _known(value) for urn, value in (kept.items() if isinstance(kept, dict) else ())
                       if isinstance(urn, str)}
        self.first_poll, self.started = first_poll, started
        self.now: dict[str, tuple[int, datetime | None]] = {}  # comment URN → (count, read or first seen)
        self.due: list[tuple[str, int, datetime | None]] = []  # (comment URN, its count now, replies after this)
        self.taken: set[str] = set()  # threads due or read in this poll (a comment may show on two pages)
        self.read: set[str] = set()

    def seen(self, comments: list[dict]) -> None:
        for comment in comments:
            urn, count = comment_urn_of(comment), reply_count(comment)
            if not urn or count is None or urn in self.taken:
                continue
            known, since = self.before.get(urn, (0, None))
            if self.first_poll or count <= known:
                self.now[urn] = (count, since or self.started)
            elif len(self.taken) < REPLY_THREADS_PER_POLL and COMMENT_URN.fullmatch(urn):
                self.taken.add(urn)
                self.due.append((urn, count, since - REPLY_OVERLAP if since else None))
            elif urn in self.before:
                self.now[urn] = (known, since)  # read at a later poll

    def read_replies(self, http) -> list[dict]:
        """The replies of the threads due, each marked as under its comment. A thread LinkedIn refuses or fails on
        (a comment deleted meanwhile: 404; a 5xx) is passed over, its count as before so that it is read again; a
        rate limit, a refused token or permission, or LinkedIn out of reach stops the poll."""
        replies = []
        due, self.due = self.due, []
        for urn, count, since in due:
            try:
                thread = _thread(http, urn)
            except TransportError as error:
                if error.retry_after is not None or error.channel_down or error.refusal is not None:
                    raise
                log.warning("LinkedIn: the replies under a comment could not be read, passed over: %s", error)
                if urn in self.before:
                    self.now[urn] = self.before[urn]
                continue
            self.now[urn] = (count, self.started)
            self.read.add(urn)
            replies += [{**reply, "parentComment": _text(reply.get("parentComment")) or urn} for reply in thread
                        if since is None or (comment_time(reply) or since) >= since]
        return replies

    def kept(self, stopped: bool = False) -> dict[str, list]:
        """What to keep: after a whole poll, the threads it saw; after a stopped one, those kept before with the
        threads it read."""
        chosen = {**self.before, **{urn: self.now[urn] for urn in self.read}} if stopped else self.now
        latest = sorted(((urn, value) for urn, value in chosen.items() if value[0] > 0),
                        key=lambda item: item[1][1] or self.started, reverse=True)[:MAX_THREADS_KEPT]
        return {urn: [count, taken.isoformat() if taken else None] for urn, (count, taken) in latest}


def _known(value) -> tuple[int, datetime | None]:
    """A kept [count, time] (or a bare count, or anything broken) as (count, time): (0, None) when unreadable."""
    count, taken = (list(value) + [None, None])[:2] if isinstance(value, list) else (value, None)
    count = count if isinstance(count, int) and not isinstance(count, bool) and count >= 0 else 0
    try:
        moment = parse_datetime(taken) if isinstance(taken, str) else None
    except ValueError:
        moment = None
    return count, moment if moment is not None and moment.tzinfo is not None else None


def _thread(http, urn: str) -> list[dict]:
    """The replies under a comment: its pages in turn, up to MAX_COMMENT_PAGES, until a short one."""
    replies = []
    for page in range(MAX_COMMENT_PAGES):
        elements = _page(http, urn, page)
        replies += elements
        if len(elements) < COMMENTS_PAGE_SIZE:
            break
    return replies


def comment_urn_of(comment: dict) -> str:
    return _text(comment.get("commentUrn")) or _text(comment.get("$URN"))


def reply_count(comment: dict) -> int | None:
    summary = comment.get("commentsSummary")
    count = summary.get("aggregatedTotalComments") if isinstance(summary, dict) else None
    return count if isinstance(count, int) and not isinstance(count, bool) and count >= 0 else None


def _page(http, urn: str, page: int) -> list[dict]:
    """A page of the comments on a post, or of the replies under a comment (by its URN), with a time."""
    answer = rest_request(http, "GET", f"socialActions/{quote(urn, safe='')}/comments", doing="read comments",
                          params={"start": page * COMMENTS_PAGE_SIZE, "count": COMMENTS_PAGE_SIZE}).json()
    return [element for element in answer.get("elements") or [] if isinstance(element, dict)
            and comment_time(element) is not None]


def comment_time(comment: dict) -> datetime | None:
    """When it was written (created.time, milliseconds), or None when that is missing or no time at all."""
    created = comment.get("created")
    millis = created.get("time") if isinstance(created, dict) else None
    if not isinstance(millis, int) or isinstance(millis, bool):
        return None
    try:
        return datetime.fromtimestamp(millis / 1000, tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None


def post_page(post_urn: str, comment_urn: str = "") -> str:
    """The post's page on linkedin.com, opened at the comment when one is given."""
    page = f"https://www.linkedin.com/feed/update/{post_urn}/"
    return f"{page}?commentUrn={quote(comment_urn, safe='')}" if comment_urn else page


def mention_from(post_urn: str, comment: dict) -> dict:
    comment_urn = comment_urn_of(comment)
    parent_urn = _text(comment.get("parentComment"))
    answered_under = parent_urn or comment_urn  # two levels: a reply to a reply goes under the first-level comment
    network_ref = f"{post_urn} {answered_under}" if answered_under else ""
    return {
        "source": Source.LINKEDIN,
        "external_id": str(comment.get("id", "")),
        "text": ((comment.get("message") or {}).get("text") or "").strip() or "(no text)",
        "posted_at": comment_time(comment).isoformat(),
        "author_handle": str(comment.get("actor") or "")[:100],
        "url": post_page(post_urn, comment_urn),
        "in_reply_to_id": _within(parent_urn or post_urn),
        "in_reply_to_url": usable_url(post_page(post_urn, parent_urn)),
        "network_ref": _within(network_ref),  # too long to keep: a reply is refused with the reason, not stored
    }


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _within(reference: str) -> str:
    """The reference when a mention can keep it whole, else "" (a cut URN would name something else)."""
    return reference if len(reference) <= REF_LIMIT else ""
