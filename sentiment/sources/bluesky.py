"""Mentions from Bluesky: brand terms and hashtags through app.bsky.feed.searchPosts (sort=latest, since the
newest post stored), and mentions, replies and quotes of our account through
app.bsky.notification.listNotifications. Both page from newest to oldest.

Post views carry no follower counts: the authors' profiles are read with app.bsky.actor.getProfiles (25 actors a
call), once per author and poll. A poll that cannot read them (an error, the rate limit) stores its mentions without
follower counts rather than lose them.

As for X: the first page's newest time is remembered in pending_newest, the page cursor in pending_cursor, and the
search's cursor (the `since` of the next poll) moves to pending_newest only when the poll has read every page
down to it. A poll cut short (the rate limit, an outage, the page cap) resumes at pending_cursor; a page stored
twice changes nothing (ingest is idempotent). A new search starts from now: its first poll reads one page.
"""

import hashlib
import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from comms.channels.base import Refusal, TransportError
from comms.channels.bluesky import bluesky_client, transport_error
from sentiment.choices import Source
from sentiment.ingest import REF_LIMIT, ingest, usable_url
from sentiment.sources import polling
from sentiment.sources.models import SocialSearch

log = logging.getLogger(__name__)
NETWORK = SocialSearch.Network.BLUESKY
Kind, Status = SocialSearch.Kind, SocialSearch.Status
NOT_CONFIGURED = "Bluesky is not configured: set BLUESKY_HANDLE and BLUESKY_APP_PASSWORD to read mentions."
SEARCH_PAGE_SIZE = 100  # searchPosts' maximum
NOTIFICATION_PAGE_SIZE = 100  # listNotifications' maximum
MAX_PAGES_PER_POLL = 10
MENTION_REASONS = frozenset({"mention", "reply", "quote"})
PROFILES_PER_CALL = 25  # app.bsky.actor.getProfiles' maximum
RATE_LIMIT_FALLBACK = timedelta(minutes=5)


def poll_due_searches() -> int:
    return polling.poll_due_searches(NETWORK, settings.BLUESKY_CONFIGURED, NOT_CONFIGURED, poll)


def poll(search: SocialSearch) -> int:
    """Read the search's new posts page by page into mentions; returns how many were created."""
    from atproto_client.exceptions import AtProtocolError  # a second to import: only where it is used

    created = 0
    client = None
    try:
        client = bluesky_client()
        followers = FollowerCounts(client)
        for _ in range(MAX_PAGES_PER_POLL):
            posts, next_cursor = fetch_page(client, search)
            since = moment(search.cursor)
            newer = [post for post in posts if since is None or moment(post["indexed_at"]) > since]
            if newer:
                counts = followers.of([post["did"] for post in newer])
                created += sum(result.status == "created"
                               for result in ingest([mention_from(post, counts.get(post["did"])) for post in newer],
                                                    default_source=Source.BLUESKY))
            if posts and not search.pending_newest:  # the first page's first post is the newest of the poll
                search.pending_newest = max(moment(post["indexed_at"]) for post in posts).isoformat()
            reached_the_cursor = len(newer) < len(posts)
            search.pending_cursor = "" if reached_the_cursor or not search.cursor else (next_cursor or "")
            polling.save_progress(search)
            if not search.pending_cursor:
                break
        else:  # the page cap: keep the place and come back at the next beat
            polling.record(search, Status.OK, "", timezone.now())
            return created
    except TransportError as error:  # signing in failed
        raise stopped(search, error) from None
    except AtProtocolError as error:
        raise stopped(search, transport_error(error, "search")) from None
    finally:
        if client is not None:
            client.request.close()
    if search.pending_newest:  # nothing new: the cursor stays as it was
        newest, current = moment(search.pending_newest), moment(search.cursor)
        search.cursor = (newest if current is None else max(newest, current)).isoformat()
    search.pending_newest = search.pending_cursor = ""
    polling.record(search, Status.OK, "", polling.after_interval(search), polled=True)
    return created


def stopped(search: SocialSearch, error: TransportError) -> polling.PollStopped:
    now = timezone.now()
    if error.retry_after is not None or error.refusal == Refusal.RATE_LIMIT:
        resume = now + (timedelta(seconds=error.retry_after) if error.retry_after else RATE_LIMIT_FALLBACK)
        return polling.PollStopped(Status.WAITING, f"{error}: polling resumes at {resume:%Y-%m-%d %H:%M:%S} UTC "
                                   "where it stopped.", resume)
    if error.permanent:
        return polling.PollStopped(Status.FAILING, f"{error}; trying again in an hour.", now + polling.REFUSED_RETRY)
    return polling.PollStopped(Status.FAILING, f"{error}; trying again at the next interval from where it stopped.",
                               polling.after_interval(search))


def fetch_page(client, search: SocialSearch) -> tuple[list[dict], str | None]:
    """One page (newest first) as plain dicts with uri, cid, author, record and indexed_at; and the cursor of the
    next, older page."""
    page_cursor = search.pending_cursor or None
    if search.kind == Kind.MENTIONS:
        response = client.app.bsky.notification.list_notifications(
            {"limit": NOTIFICATION_PAGE_SIZE, **({"cursor": page_cursor} if page_cursor else {})})
        items = [item for item in response.notifications if item.reason in MENTION_REASONS]
        return [_plain(item) for item in items], response.cursor
    query = f"#{search.query}" if search.kind == Kind.HASHTAG else search.query
    params = {"q": query, "sort": "latest", "limit": SEARCH_PAGE_SIZE}
    if search.cursor:
        params["since"] = search.cursor
    if page_cursor:
        params["cursor"] = page_cursor
    response = client.app.bsky.feed.search_posts(params)
    return [_plain(post) for post in response.posts], response.cursor


def moment(value: str | None) -> datetime | None:
    """An indexedAt time as a datetime (the strings differ in precision, so they do not compare as text)."""
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        return None
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)


class FollowerCounts:
    """The follower counts of post authors (by DID), read with app.bsky.actor.getProfiles 25 at a time and kept in
    the cache for FOLLOWERS_KEPT (the same people post again and again during an incident: a call per 25 new authors
    rather than per 25 authors, well inside Bluesky's request limits). After a failure nothing more is asked in that
    poll: its mentions are stored without follower counts. A cache that fails is read as empty."""

    def __init__(self, client):
        self.client = client
        self.known: dict[str, int | None] = {}
        self.failed = False

    def of(self, dids: list[str]) -> dict[str, int | None]:
        from atproto_client.exceptions import AtProtocolError

        missing = list(dict.fromkeys(did for did in dids if did and did not in self.known))
        self.known.update(_cached(missing))
        missing = [did for did in missing if did not in self.known]
        for start in range(0, len(missing), PROFILES_PER_CALL):
            if self.failed:
                break
            batch = missing[start : start + PROFILES_PER_CALL]
            try:
                profiles = self.client.app.bsky.actor.get_profiles({"actors": batch}).profiles
            except AtProtocolError as error:
                log.warning("Bluesky profiles could not be read (%s): mentions are stored without follower counts",
                            transport_error(error, "read profiles"))
                self.failed = True
                break
            found = dict.fromkeys(batch)  # an actor not answered for (deleted, taken down): unknown
            for profile in profiles:
                count = getattr(profile, "followers_count", None)
                if profile.did in found:
                    found[profile.did] = count if isinstance(count, int) and count >= 0 else None
            self.known.update(found)
            _keep({did: count for did, count in found.items() if count is not None})
        return {did: self.known.get(did) for did in dids}


FOLLOWERS_KEPT = 3600  # seconds a follower count is reused


def _follower_key(did: str) -> str:
    """Per service and account (a digest: DIDs are long and may hold any character)."""
    return "bluesky-followers:" + hashlib.sha256(f"{settings.BLUESKY_SERVICE_URL}\0{did}".encode()).hexdigest()[:32]


def _cached(dids: list[str]) -> dict[str, int]:
    if not dids:
        return {}
    keys = {_follower_key(did): did for did in dids}
    try:
        found = cache.get_many(list(keys))
    except Exception:  # the cache is down: ask Bluesky
        return {}
    return {keys[key]: count for key, count in found.items() if isinstance(count, int) and count >= 0}


def _keep(counts: dict[str, int]) -> None:
    try:
        cache.set_many({_follower_key(did): count for did, count in counts.items()}, FOLLOWERS_KEPT)
    except Exception:  # a count not kept is asked again next time
        log.warning("Bluesky follower counts could not be kept in the cache")


def _reply_parent(record) -> str:
    """The at:// URI of the post a post record replies to (record.reply.parent.uri); "" when it starts a thread, or
    when the URI is longer than a mention keeps."""
    uri = _field(_field(_field(record, "reply"), "parent"), "uri")
    return uri if isinstance(uri, str) and uri.startswith("at://") and len(uri) <= REF_LIMIT else ""


def _field(value, name: str):
    """A field of a record as the SDK gives it: a model for the lexicons it knows, a dict for the others."""
    return value.get(name) if isinstance(value, dict) else getattr(value, name, None)


def _plain(item) -> dict:
    record = item.record
    return {
        "uri": item.uri,
        "did": item.author.did,
        "handle": item.author.handle,
        "name": item.author.display_name or "",
        "text": getattr(record, "text", "") or "",
        "created_at": getattr(record, "created_at", None) or item.indexed_at,
        "langs": list(getattr(record, "langs", None) or []),
        "indexed_at": item.indexed_at,
        "reply_parent": _reply_parent(record),
    }


def post_url(uri: str, handle: str) -> str:
    """The post's page on bsky.app, from its at://did/app.bsky.feed.post/rkey URI."""
    rkey = uri.rsplit("/", 1)[-1]
    return f"https://bsky.app/profile/{handle}/post/{rkey}"


def thread_url(uri: str) -> str:
    """The page on bsky.app of the post an at:// URI names (bsky.app takes the author's DID for the handle); "" when
    it does not name a post."""
    did, _, rest = uri.removeprefix("at://").partition("/")
    collection, _, rkey = rest.partition("/")
    if not did.startswith("did:") or collection != "app.bsky.feed.post" or not rkey or "/" in rkey:
        return ""
    return post_url(uri, did)


def mention_from(post: dict, followers: int | None = None) -> dict:
    return {
        "source": Source.BLUESKY,
        "external_id": post["uri"],
        "text": post["text"] or "(no text)",
        "posted_at": post["created_at"],
        "author_handle": post["handle"],
        "author_name": post["name"][:200],
        "author_followers": followers,  # not in a post view: from app.bsky.actor.getProfiles (FollowerCounts)
        "url": post_url(post["uri"], post["handle"]),
        "language": (post["langs"] or [""])[0][:12],
        "in_reply_to_id": post["reply_parent"],
        "in_reply_to_url": usable_url(thread_url(post["reply_parent"])),
    }
