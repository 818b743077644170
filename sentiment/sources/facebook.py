"""Comments on our Facebook page's posts, polled: GET /v21.0/{page-id}/feed with each of the latest posts' newest
comments at every level (field expansion with filter(stream): replies under comments too), one request per poll,
and a busy post's next pages while all of a page is new (GET /{post-id}/comments after its cursor).
The page token needs pages_read_engagement and pages_read_user_content (docs/operations.md).

The search's cursor is the newest comment time read; each poll keeps the comments from that second on (ingest is
idempotent by source and comment id, so a comment read twice changes nothing). A poll stopped by a rate limit or an
outage stores nothing and moves no cursor: the next one reads the same posts again. A new search starts from now.
Comments written by the page itself are left out. Each mention keeps the thread it belongs to: the comment it
answers (a reply under a comment) or else the post it is on, with its address.
"""

import logging
import re
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from comms.channels.base import Refusal, TransportError
from comms.channels.facebook import graph_request
from core.outbound import API_READ_LIMIT_BYTES, OutboundSession
from sentiment.choices import Source
from sentiment.ingest import ingest, usable_url
from sentiment.sources import polling
from sentiment.sources.models import SocialSearch

log = logging.getLogger(__name__)

NETWORK = SocialSearch.Network.FACEBOOK
Status = SocialSearch.Status
NOT_CONFIGURED = ("Facebook is not configured: set FACEBOOK_PAGE_ID and FACEBOOK_PAGE_TOKEN (pages_read_engagement, "
                  "pages_read_user_content) to read comments.")
POSTS_WATCHED = 25  # the page's latest posts
COMMENTS_PER_POST = 100
POST_ID = re.compile(r"\d{1,40}(?:_\d{1,40})?")  # "<page id>_<post id>", as the feed gives them
MORE_PAGES = 4  # per post and poll, when every comment of a page is new: a busy post's comments are paged
COMMENT_FIELDS = "id,message,from,created_time,permalink_url,parent"
# filter(stream): replies under comments too, each with its parent (the edge lists top-level comments only by
# default).
FEED_FIELDS = (f"id,permalink_url,comments.filter(stream).order(reverse_chronological).limit({COMMENTS_PER_POST})"
               f"{{{COMMENT_FIELDS}}}")


def poll_due_searches() -> int:
    return polling.poll_due_searches(NETWORK, settings.FACEBOOK_CONFIGURED, NOT_CONFIGURED, poll)


def poll(search: SocialSearch) -> int:
    """Store the comments newer than the cursor; returns how many mentions were created."""
    http = OutboundSession(response_limit=API_READ_LIMIT_BYTES)  # a page of 25 posts' comments: megabytes
    try:
        feed = graph_request(http, "GET", f"{settings.FACEBOOK_PAGE_ID}/feed", doing="read the page",
                             params={"fields": FEED_FIELDS, "limit": POSTS_WATCHED})
    except TransportError as error:
        raise polling.stopped_by(search, error) from None
    since = parse_datetime(search.cursor) if search.cursor else None
    posts = [post for post in feed.get("data") or [] if isinstance(post, dict)]
    try:
        comments = [{**comment, "post": post} for post in posts for comment in comments_of(http, post, since)]
    except TransportError as error:
        raise polling.stopped_by(search, error) from None
    times = [parse_datetime(comment.get("created_time") or "") for comment in comments]
    newest = max((moment for moment in times if moment), default=None)
    created = 0
    if since is None:  # a new search starts from now: its first poll only sets the cursor, past what it saw
        search.cursor = (newest + timedelta(seconds=1) if newest else timezone.now()).isoformat()
    else:
        # Graph API times are whole seconds: the cursor's second is read again (a comment stored twice is a
        # duplicate), so that one written later in that same second is not lost.
        found = [mention_from(comment) for comment, moment in zip(comments, times, strict=True)
                 if moment and moment >= since and not by_the_page(comment)]
        if found:
            created = sum(result.status == "created" for result in ingest(found, default_source=Source.FACEBOOK))
        search.cursor = max(filter(None, (newest, since))).isoformat()
    polling.save_progress(search)
    polling.record(search, Status.OK, "", polling.after_interval(search), polled=True)
    return created


def comments_of(http, post: dict, since) -> list[dict]:
    """The post's comments from the feed and, while every comment of a page is at or after since (more of them may
    be new), its next pages (GET /{post-id}/comments after the page's cursor), up to MORE_PAGES."""
    edge = _edge(post.get("comments"))
    found = page = edge["data"]
    post_id = str(post.get("id") or "")
    for _ in range(MORE_PAGES):
        if since is None or not page or not edge["after"] or not POST_ID.fullmatch(post_id) or any(
                (moment := parse_datetime(str(comment.get("created_time") or ""))) is None or moment < since
                for comment in page):
            break  # nothing more, or this page reached the cursor
        try:
            edge = _edge(graph_request(http, "GET", f"{post_id}/comments", doing="read comments", params={
                "filter": "stream", "order": "reverse_chronological", "limit": COMMENTS_PER_POST,
                "fields": COMMENT_FIELDS, "after": edge["after"]}))
        except TransportError as error:
            if error.retry_after is not None or error.channel_down or error.refusal in (Refusal.RATE_LIMIT,
                                                                                         Refusal.TOKEN):
                raise  # the poll stops, as for the feed
            # a post deleted since the feed was read, or a page that failed: what the feed gave is kept
            log.warning("Facebook: more comments of a post could not be read, passed over: %s", error)
            break
        page = edge["data"]
        found = found + page
    return found


def _edge(value) -> dict:
    """A comments edge's page: its comments, and the cursor after it when the Graph API says there is a next."""
    value = value if isinstance(value, dict) else {}
    paging = value.get("paging") if isinstance(value.get("paging"), dict) else {}
    cursors = paging.get("cursors") if isinstance(paging.get("cursors"), dict) else {}
    after = cursors.get("after") if paging.get("next") and isinstance(cursors.get("after"), str) else None
    data = value.get("data") if isinstance(value.get("data"), list) else []
    return {"data": [comment for comment in data if isinstance(comment, dict)], "after": after}


def by_the_page(comment: dict) -> bool:
    return str((comment.get("from") or {}).get("id", "")) == str(settings.FACEBOOK_PAGE_ID)


def mention_from(comment: dict) -> dict:
    """The mention of a comment as the feed gives it, with the post it is on under "post"."""
    author = comment.get("from") or {}  # only for people who let apps see it (pages_read_user_content)
    parent_id, parent_url = thread_of(comment)
    return {
        "source": Source.FACEBOOK,
        "external_id": str(comment.get("id", "")),
        "text": (comment.get("message") or "").strip() or "(no text)",
        "posted_at": comment.get("created_time"),
        "author_name": str(author.get("name") or "")[:200],
        "url": comment.get("permalink_url") or "",
        "in_reply_to_id": parent_id,
        "in_reply_to_url": usable_url(parent_url),
    }


def thread_of(comment: dict) -> tuple[str, str]:
    """The id and address of what a comment answers: the comment it replies under (`parent`), else its post. A
    parent comment's address is its own permalink when the feed had it, else the post's with ?comment_id=, the form
    Facebook's comment permalinks take."""
    post = comment.get("post") or {}
    post_id, post_url = str(post.get("id") or ""), str(post.get("permalink_url") or "")
    parent = comment.get("parent") if isinstance(comment.get("parent"), dict) else {}
    parent_id = str(parent.get("id") or "")
    if not parent_id:
        return post_id, post_url
    siblings = ((post.get("comments") or {}).get("data") or [])
    found = next((item for item in siblings if isinstance(item, dict) and str(item.get("id")) == parent_id), None)
    if found and found.get("permalink_url"):
        return parent_id, str(found["permalink_url"])
    return parent_id, (f"{post_url}?comment_id={parent_id}" if post_url and "?" not in post_url else post_url)
