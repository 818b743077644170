"""Comments on our LinkedIn organization page's posts, polled: the organization's latest posts (GET
/rest/posts?q=author), then each one's comments (GET /rest/socialActions/{post-urn}/comments, newest first), then
the replies under each of the newest of those comments that its commentsSummary says has replies (GET
/rest/socialActions/{comment-urn}/comments: LinkedIn lists a post's first-level comments only). The token needs
r_organization_social (docs/operations.md).

Replies are read under the REPLY_THREADS newest first-level comments of a post that have any, old ones included (a
reply may come days after the comment it answers); one under an older comment is not read: a request per comment
and poll would spend the page's daily request limit.

The search's cursor is the newest comment time stored. A poll reads every watched post down to the cursor and
stores what is newer; comments stored before a rate limit or an outage stopped the poll stay stored (ingest is
idempotent by source and comment id), and the cursor moves only when a poll has read every post, so the next poll
reads again what the stopped one had not. A new search starts from now. The organization's own comments are left
out.

Each mention keeps its thread (the comment it answers, for a reply under a comment, else the post) and, in
network_ref, "<post URN> <comment URN>": what the channel needs to answer it under the same comment
(comms/channels/linkedin.py). LinkedIn threads are two levels deep, so a reply to a reply is answered under the
first-level comment, as LinkedIn's own page does.
"""

from datetime import UTC, datetime
from urllib.parse import quote

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from comms.channels.base import TransportError
from comms.channels.linkedin import organization_urn, rest_request
from core.outbound import OutboundSession
from sentiment.choices import Source
from sentiment.ingest import REF_LIMIT, ingest, usable_url
from sentiment.sources import polling
from sentiment.sources.models import SocialSearch

NETWORK = SocialSearch.Network.LINKEDIN
Status = SocialSearch.Status
NOT_CONFIGURED = ("LinkedIn is not configured: set LINKEDIN_ORGANIZATION_ID and LINKEDIN_ACCESS_TOKEN "
                  "(r_organization_social) to read comments.")
POSTS_WATCHED = 20
COMMENTS_PAGE_SIZE = 50
MAX_COMMENT_PAGES = 4  # per post and poll
REPLY_THREADS = 5  # per post and poll: the newest first-level comments with replies, whose replies are read


def poll_due_searches() -> int:
    return polling.poll_due_searches(NETWORK, settings.LINKEDIN_CONFIGURED, NOT_CONFIGURED, poll)


def poll(search: SocialSearch) -> int:
    since = parse_datetime(search.cursor) if search.cursor else None
    http = OutboundSession()
    created, newest = 0, since
    try:
        posts = rest_request(http, "GET", "posts", doing="read the page's posts", params={
            "q": "author", "author": organization_urn(), "count": POSTS_WATCHED, "sortBy": "LAST_MODIFIED"}).json()
        for post in posts.get("elements") or []:
            urn = post.get("id") if isinstance(post, dict) else None
            if not isinstance(urn, str):
                continue
            comments = comments_since(http, urn, since)
            newest = max([comment_time(comment) for comment in comments] + ([newest] if newest else []), default=None)
            found = [mention_from(urn, comment) for comment in comments if comment.get("actor") != organization_urn()]
            if since is not None and found:  # a new search starts from now: its first poll only sets the cursor
                created += sum(result.status == "created"
                               for result in ingest(found, default_source=Source.LINKEDIN))
    except TransportError as error:
        raise polling.stopped_by(search, error) from None
    except ValueError:  # an answer that is not JSON
        raise polling.PollStopped(Status.FAILING, "LinkedIn answered something that is not JSON; trying again at "
                                  "the next interval.", polling.after_interval(search)) from None
    search.cursor = (newest or timezone.now()).isoformat()
    polling.save_progress(search)
    polling.record(search, Status.OK, "", polling.after_interval(search), polled=True)
    return created


def comments_since(http, post_urn: str, since: datetime | None) -> list[dict]:
    """The post's comments newer than since (all of its first page for a new search), newest first, then the replies
    newer than since under the REPLY_THREADS newest first-level comments read that have replies."""
    found, threads = [], []
    for page in range(MAX_COMMENT_PAGES):
        elements = _page(http, post_urn, page)
        newer = [element for element in elements if since is None or comment_time(element) > since]
        found.extend(newer)
        threads += [element for element in elements if _has_replies(element)][: REPLY_THREADS - len(threads)]
        if len(newer) < len(elements) or len(elements) < COMMENTS_PAGE_SIZE or since is None:
            break
    for comment in threads:
        urn = _text(comment.get("commentUrn")) or _text(comment.get("$URN"))
        if urn:
            found.extend(reply for reply in _page(http, urn, 0) if since is None or comment_time(reply) > since)
    return found


def _page(http, urn: str, page: int) -> list[dict]:
    """A page of the comments on a post, or of the replies under a comment (by its URN), with a time."""
    answer = rest_request(http, "GET", f"socialActions/{quote(urn, safe='')}/comments", doing="read comments",
                          params={"start": page * COMMENTS_PAGE_SIZE, "count": COMMENTS_PAGE_SIZE}).json()
    return [element for element in answer.get("elements") or [] if isinstance(element, dict)
            and comment_time(element) is not None]


def _has_replies(comment: dict) -> bool:
    summary = comment.get("commentsSummary")
    count = summary.get("aggregatedTotalComments") if isinstance(summary, dict) else None
    return isinstance(count, int) and not isinstance(count, bool) and count > 0


def comment_time(comment: dict) -> datetime | None:
    millis = (comment.get("created") or {}).get("time")
    if not isinstance(millis, int) or isinstance(millis, bool):
        return None
    return datetime.fromtimestamp(millis / 1000, tz=UTC)


def post_page(post_urn: str, comment_urn: str = "") -> str:
    """The post's page on linkedin.com, opened at the comment when one is given."""
    page = f"https://www.linkedin.com/feed/update/{post_urn}/"
    return f"{page}?commentUrn={quote(comment_urn, safe='')}" if comment_urn else page


def mention_from(post_urn: str, comment: dict) -> dict:
    comment_urn = _text(comment.get("commentUrn")) or _text(comment.get("$URN"))
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
