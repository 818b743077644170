"""A fake Mastodon instance: the shapes of docs.joinmastodon.org for the endpoints EARS uses.

POST /api/v1/statuses (form or JSON; Idempotency-Key answered with the status it already made; 401 without the
token), GET /api/v2/instance and /api/v1/instance (configuration.statuses.max_characters), GET
/api/v1/notifications (types[]=mention), GET /api/v1/timelines/tag/:hashtag and GET /api/v2/search
(type=statuses), each with since_id / min_id / max_id / limit as Mastodon pages them. Streaming, over server-sent
events: GET /api/v1/streaming/health ("OK"), /api/v1/streaming/user/notification and /api/v1/streaming/hashtag?tag=
(the events queued with stream_mention / stream_status, then the connection closed once `hold_streams` is set); the
instance names itself as the streaming server (configuration.urls.streaming, ws://).
"""

import itertools
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from html import escape

from tests.fakes import Answer, EventStream, FakeServer, Text

TOKEN = "fake-mastodon-token"
OUR_ACCOUNT = {"id": "1", "username": "acme", "acct": "acme", "display_name": "Acme", "followers_count": 1200}


class FakeMastodon(FakeServer):
    def __init__(self, *, max_characters: int | None = 500, instance_v2: bool = True):
        super().__init__()
        self.max_characters = max_characters
        self.instance_v2 = instance_v2
        self.posted: list[dict] = []  # statuses EARS posted, in order
        self.by_idempotency_key: dict[str, dict] = {}
        self.statuses: list[dict] = []  # other people's statuses, oldest first
        self.notifications: list[dict] = []
        self.ids = itertools.count(110_000_000_000_000_001)
        self.clock = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
        self.streamed: dict[str, list[tuple[str, dict]]] = {}  # stream ("user:notification", "hashtag:<tag>") → events
        self.hold_streams = threading.Event()  # set: each stream closes once its events are sent
        self.hold_streams.set()
        self.streaming_url: str | None = None  # configuration.urls.streaming; None: this fake, as ws://

    # --- content for the listening tests ------------------------------------------------------------

    def _status(self, text: str, *, acct: str, followers: int | None, reply_to: str | None = None) -> dict:
        status_id = str(next(self.ids))
        self.clock += timedelta(seconds=1)
        username = acct.split("@")[0]
        account = {"id": str(abs(hash(acct)) % 10**8), "username": username, "acct": acct,
                   "display_name": username.title(), "url": f"{self.url}/@{username}"}
        if followers is not None:
            account["followers_count"] = followers
        # A reply names the status it answers and its author's account id, and mentions that author (Mastodon's
        # composer starts a reply with their @handle).
        parent = next((status for status in [*self.statuses, *self.posted] if status["id"] == reply_to), None)
        mentions = [{key: parent["account"][key] for key in ("id", "username", "acct", "url") if key in
                     parent["account"]}] if parent else []
        return {
            "id": status_id, "created_at": self.clock.isoformat().replace("+00:00", "Z"),
            "in_reply_to_id": reply_to, "in_reply_to_account_id": parent["account"]["id"] if parent else None,
            "visibility": "public", "language": "en",
            "uri": f"{self.url}/users/{username}/statuses/{status_id}",
            "url": f"{self.url}/@{username}/{status_id}",
            "content": f"<p>{escape(text)}</p>", "account": account, "mentions": mentions, "tags": [],
            "reblog": None,
        }

    def add_mention(self, text: str, *, acct: str = "carol@example.social", followers: int | None = 42,
                    reply_to: str | None = None) -> dict:
        status = self._status(f"@acme {text}", acct=acct, followers=followers, reply_to=reply_to)
        self.statuses.append(status)
        self.notifications.append({"id": str(next(self.ids)), "type": "mention", "created_at": status["created_at"],
                                   "account": status["account"], "status": status})
        return status

    def add_status(self, text: str, *, acct: str = "dave@example.social", followers: int | None = 7,
                   reply_to: str | None = None) -> dict:
        status = self._status(text, acct=acct, followers=followers, reply_to=reply_to)
        self.statuses.append(status)
        return status

    def stream_mention(self, text: str, **kwargs) -> dict:
        """A mention sent on the notifications stream only (a poll does not see it); its notification."""
        status = self._status(f"@acme {text}", acct=kwargs.pop("acct", "carol@example.social"),
                              followers=kwargs.pop("followers", 42), **kwargs)
        notification = {"id": str(next(self.ids)), "type": "mention", "created_at": status["created_at"],
                        "account": status["account"], "status": status}
        self.streamed.setdefault("user:notification", []).append(("notification", notification))
        return notification

    def stream_status(self, tag: str, text: str, *, reblog: dict | None = None, **kwargs) -> dict:
        """A status sent on the hashtag's stream only, as an `update` event."""
        status = self._status(text, acct=kwargs.pop("acct", "dave@example.social"),
                              followers=kwargs.pop("followers", 7), **kwargs)
        status["reblog"] = reblog
        self.streamed.setdefault(f"hashtag:{tag.lower()}", []).append(("update", status))
        return status

    # --- the API ------------------------------------------------------------------------------------

    def route(self, method, path, query, headers, body):
        if path in ("/api/v2/instance", "/api/v1/instance"):
            return self._instance(path)
        if path == "/api/v1/streaming/health":
            return 200, Text("OK")
        if headers.get("authorization") != f"Bearer {TOKEN}":
            raise Answer(401, {"error": "The access token is invalid"})
        if method == "POST" and path == "/api/v1/statuses":
            return self._post(headers, body or {})
        if method == "GET" and path == "/api/v1/streaming/user/notification":
            return 200, EventStream(self.streamed.get("user:notification", []), self.hold_streams)
        if method == "GET" and path == "/api/v1/streaming/hashtag":
            tag = query.get("tag", [""])[0].lower()
            return 200, EventStream(self.streamed.get(f"hashtag:{tag}", []), self.hold_streams)
        if method == "GET" and path.startswith("/api/v1/statuses/"):
            wanted = path.rsplit("/", 1)[1]
            for status in [*self.statuses, *self.posted]:
                if status["id"] == wanted:
                    return 200, status
            raise Answer(404, {"error": "Record not found"})
        if method == "GET" and path == "/api/v1/notifications":
            types = query.get("types[]", [])
            found = [n for n in self.notifications if not types or n["type"] in types]
            return 200, page(found, query)
        if method == "GET" and path.startswith("/api/v1/timelines/tag/"):
            tag = path.rsplit("/", 1)[1].lower()
            return 200, page([s for s in self.statuses if f"#{tag}" in s["content"].lower()], query)
        if method == "GET" and path == "/api/v2/search":
            words = query.get("q", [""])[0].lower()
            found = [s for s in self.statuses if words in s["content"].lower()]
            return 200, {"accounts": [], "hashtags": [], "statuses": page(found, query)}
        raise Answer(404, {"error": "Record not found"})

    def _instance(self, path):
        if path == "/api/v2/instance" and not self.instance_v2:
            raise Answer(404, {"error": "Record not found"})
        configuration = {"statuses": {"max_characters": self.max_characters, "characters_reserved_per_url": 23},
                         "urls": {"streaming": self.streaming_url or self.url.replace("http://", "ws://", 1)}}
        if self.max_characters is None:
            configuration = {}
        return 200, {"domain": "fake.social", "title": "Fake", "version": "4.3.0",
                     "api_versions": {"mastodon": 2}, "configuration": configuration}

    def _post(self, headers, body):
        key = headers.get("idempotency-key")
        if key and key in self.by_idempotency_key:
            return 200, self.by_idempotency_key[key]
        text = body.get("status", "")
        if not text:
            raise Answer(422, {"error": "Validation failed: Text can't be blank"})
        status = self._status(text, acct="acme", followers=1200, reply_to=body.get("in_reply_to_id") or None)
        status["account"] = OUR_ACCOUNT
        status["visibility"] = body.get("visibility", "public")
        status["text"] = text
        self.posted.append(status)
        if key:
            self.by_idempotency_key[key] = status
        return 200, status


def page(items: list[dict], query: dict) -> list[dict]:
    """Mastodon's paging: max_id (older than), since_id (newer than, the newest first), min_id (newer than, the
    ones right after it); always returned newest first."""
    limit = min(int(query.get("limit", ["20"])[0]), 40)
    ordered = sorted(items, key=lambda item: int(item["id"]))
    if "max_id" in query:
        ordered = [i for i in ordered if int(i["id"]) < int(query["max_id"][0])]
    if "since_id" in query:
        ordered = [i for i in ordered if int(i["id"]) > int(query["since_id"][0])]
    if "min_id" in query:
        ordered = [i for i in ordered if int(i["id"]) > int(query["min_id"][0])][:limit]
    else:
        ordered = ordered[-limit:]
    return list(reversed(ordered))


@contextmanager
def configured_mastodon(settings):
    """A FakeMastodon, and the settings that make EARS read from and post to it (pytest-django's settings)."""
    with FakeMastodon() as fake:
        settings.MASTODON_CONFIGURED = True
        settings.MASTODON_API_BASE_URL, settings.MASTODON_ACCESS_TOKEN = fake.url, TOKEN
        yield fake
