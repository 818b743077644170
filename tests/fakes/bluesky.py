"""A fake Bluesky PDS and AppView: the XRPC shapes of the atproto lexicons for the endpoints EARS uses.

com.atproto.server.createSession / refreshSession (401 AuthenticationRequired for a wrong app password),
com.atproto.repo.createRecord (a record at an rkey already used: 400 InvalidRequest) and getRecord (400
RecordNotFound), app.bsky.feed.searchPosts (q, since, cursor, limit, sort=latest) and
app.bsky.notification.listNotifications (cursor, limit), app.bsky.feed.getPosts (uris), app.bsky.actor.getProfiles
(actors, at most 25: profileViewDetailed with followersCount; an actor it does not know is left out).
"""

import base64
import hashlib
import itertools
import json
import time
from datetime import UTC, datetime, timedelta

from tests.fakes import Answer, FakeServer

HANDLE = "acme.bsky.social"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
DID = "did:plc:acmeacmeacmeacmeacmeacme"


def jwt(subject: str, lifetime: int = 7200) -> str:
    """A token shaped like a JWT (header.payload.signature), its exp what the SDK reads to refresh it."""
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    now = int(time.time())
    return f"{part({'alg': 'ES256K', 'typ': 'at+jwt'})}.{part({'sub': subject, 'iat': now, 'exp': now + lifetime})}.sig"


def cid_of(value) -> str:
    return "bafyrei" + hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:52]


class FakeBluesky(FakeServer):
    def __init__(self):
        super().__init__()
        self.records: dict[str, dict] = {}  # rkey → {"uri", "cid", "value"} of our repo, in the order made
        self.access_tokens: set[str] = set()
        self.sessions_created = 0
        self.posts: list[dict] = []  # other people's posts (postView), oldest first
        self.notifications: list[dict] = []
        self.counter = itertools.count(1)
        self.clock = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
        self.profiles: dict[str, dict] = {}  # did → profileViewDetailed of the people who posted

    # --- content for the listening tests ------------------------------------------------------------

    def add_post(self, text: str, *, handle: str = "carol.bsky.social", reply_to: str | None = None,
                 followers: int | None = 250) -> dict:
        number = next(self.counter)
        self.clock += timedelta(seconds=1)
        at = self.clock.isoformat().replace("+00:00", "Z")
        did = f"did:plc:{hashlib.sha256(handle.encode()).hexdigest()[:24]}"
        profile = {"did": did, "handle": handle, "displayName": handle.split(".")[0].title(), "followsCount": 12,
                   "postsCount": number, "indexedAt": at}
        if followers is not None:  # the lexicon makes every count optional
            profile["followersCount"] = followers
        self.profiles[did] = profile
        record = {"$type": "app.bsky.feed.post", "text": text, "createdAt": at, "langs": ["en"]}
        if reply_to:
            record["reply"] = {"root": {"uri": reply_to, "cid": cid_of(reply_to)},
                               "parent": {"uri": reply_to, "cid": cid_of(reply_to)}}
        uri = f"at://{did}/app.bsky.feed.post/3lpost{number:07d}"
        post = {"uri": uri, "cid": cid_of(record), "author": {"did": did, "handle": handle,
                                                               "displayName": handle.split(".")[0].title()},
                "record": record, "indexedAt": at, "replyCount": 0, "repostCount": 0, "likeCount": 0}
        self.posts.append(post)
        return post

    def add_mention(self, text: str, **kwargs) -> dict:
        post = self.add_post(f"@{HANDLE} {text}", **kwargs)
        self.notifications.append({"uri": post["uri"], "cid": post["cid"], "author": post["author"],
                                   "reason": "mention", "record": post["record"], "isRead": False,
                                   "indexedAt": post["indexedAt"]})
        return post

    # --- the API ------------------------------------------------------------------------------------

    def route(self, method, path, query, headers, body):
        name = path.removeprefix("/xrpc/")
        if name == "com.atproto.server.createSession":
            return self._create_session(body or {})
        if name == "com.atproto.server.refreshSession":
            return self._session()
        token = (headers.get("authorization") or "").removeprefix("Bearer ")
        if token not in self.access_tokens:
            raise Answer(401, {"error": "AuthenticationRequired", "message": "Authentication Required"})
        if method == "POST" and name == "com.atproto.repo.createRecord":
            return self._create_record(body or {})
        if method == "GET" and name == "com.atproto.repo.getRecord":
            found = self.records.get(query.get("rkey", [""])[0])
            if found is None:
                raise Answer(400, {"error": "RecordNotFound", "message": "Could not locate record"})
            return 200, found
        if method == "GET" and name == "app.bsky.feed.searchPosts":
            words = query.get("q", [""])[0].lower()
            since = query.get("since", [""])[0]
            found = [p for p in self.posts if words in p["record"]["text"].lower() and p["indexedAt"] >= since]
            posts, cursor = newest_first_page(found, query)
            return 200, {"posts": posts, **({"cursor": cursor} if cursor else {}), "hitsTotal": len(found)}
        if method == "GET" and name == "app.bsky.feed.getPosts":
            wanted = query.get("uris", [])
            return 200, {"posts": [post for post in self.posts if post["uri"] in wanted]}
        if method == "GET" and name == "app.bsky.actor.getProfiles":
            actors = query.get("actors", [])
            if not actors or len(actors) > 25:
                problem = "actors must not have more than 25 elements" if actors else 'Params must have "actors"'
                raise Answer(400, {"error": "InvalidRequest", "message": f"Error: {problem}"})
            found = [self.profiles.get(actor) or next((profile for profile in self.profiles.values()
                                                       if profile["handle"] == actor), None) for actor in actors]
            return 200, {"profiles": [profile for profile in found if profile]}
        if method == "GET" and name == "app.bsky.notification.listNotifications":
            found, cursor = newest_first_page(self.notifications, query)
            return 200, {"notifications": found, **({"cursor": cursor} if cursor else {})}
        raise Answer(400, {"error": "MethodNotImplemented", "message": f"{name} is not served here"})

    def _create_session(self, body):
        if body.get("identifier") != HANDLE or body.get("password") != APP_PASSWORD:
            raise Answer(401, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"})
        self.sessions_created += 1
        return self._session()

    def _session(self):
        access = jwt(DID)
        self.access_tokens.add(access)
        return 200, {"accessJwt": access, "refreshJwt": jwt(DID, 86_400), "handle": HANDLE, "did": DID,
                     "active": True}

    def _create_record(self, body):
        rkey = body.get("rkey") or f"3lrec{next(self.counter):08d}"
        if rkey in self.records:
            raise Answer(400, {"error": "InvalidRequest", "message": f"Record already exists at {rkey}"})
        record = body.get("record") or {}
        if len(record.get("text", "")) > 3000:
            raise Answer(400, {"error": "InvalidRequest", "message": "Invalid app.bsky.feed.post record"})
        uri = f"at://{DID}/{body.get('collection')}/{rkey}"
        self.records[rkey] = {"uri": uri, "cid": cid_of(record), "value": record}
        return 200, {"uri": uri, "cid": self.records[rkey]["cid"],
                     "commit": {"cid": cid_of(uri), "rev": "3l" + rkey[-11:]}, "validationStatus": "valid"}

    @property
    def posted(self) -> list[dict]:
        return [record["value"] for record in self.records.values()]


def newest_first_page(items: list[dict], query: dict) -> tuple[list[dict], str | None]:
    """A page of items newest first; the cursor is the position after it (opaque to the client)."""
    limit = int(query.get("limit", ["25"])[0])
    start = int(query.get("cursor", ["0"])[0])
    ordered = list(reversed(items))
    chosen = ordered[start : start + limit]
    return chosen, (str(start + limit) if start + limit < len(ordered) else None)
