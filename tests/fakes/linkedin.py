"""A fake LinkedIn REST API for one organization page: the shapes of learn.microsoft.com/linkedin (Posts API,
Social Actions / Comments API) for the endpoints EARS uses.

POST /rest/posts (JSON; LinkedIn-Version YYYYMM and X-Restli-Protocol-Version 2.0.0 required) answers 201 with an
empty body and the post's URN in the x-restli-id header; a wrong token is 401, a missing or malformed version
header 400, the same commentary twice 422 "Content is a duplicate of urn:li:share:…". GET
/rest/posts?q=author lists the organization's posts, GET /rest/socialActions/{post-urn}/comments a post's
first-level comments (start/count paging, newest first, each with its commentsSummary) and GET
/rest/socialActions/{comment-urn}/comments the replies under a comment, for listening. POST
/rest/socialActions/{post-urn}/comments ({"actor", "object", "message": {"text"}, "parentComment"?}) comments as
the actor: 201 with the new comment (its "$URN") and its id in x-restli-id; an actor other than the organization
is 403, a post or parent comment it does not know 404, the same text twice under the same comment 422 "Content is
a duplicate".
Errors are {"message", "status", "serviceErrorCode"}.
"""

import itertools
import re
import time
from urllib.parse import unquote

from tests.fakes import Answer, FakeServer

TOKEN = "fake-linkedin-token"
ORGANIZATION_ID = "2414183"
ORGANIZATION = f"urn:li:organization:{ORGANIZATION_ID}"


def error(status: int, message: str, code: int = 0) -> dict:
    return {"message": message, "status": status, "serviceErrorCode": code}


class FakeLinkedIn(FakeServer):
    def __init__(self):
        super().__init__()
        self.posted: list[dict] = []  # posts EARS made, in order
        self.comments: dict[str, list[dict]] = {}  # post URN → its comments, oldest first
        self.ids = itertools.count(7_270_000_000_000_000_001)
        self.clock_ms = 0
        self.replies_without_parent = False  # list replies without parentComment, as an answer may come

    # --- content for the listening tests ------------------------------------------------------------

    def add_post(self, text: str = "Checkout is failing for some customers") -> str:
        """A post of the organization (made outside EARS); its URN."""
        urn = f"urn:li:share:{next(self.ids)}"
        self.posted.append({"author": ORGANIZATION, "commentary": text, "urn": urn})
        return urn

    def add_comment(self, post_urn: str, text: str, *, actor: str = "urn:li:person:carol123",
                    parent: str | None = None) -> dict:
        # a comment is written now (later than any poll before it), and at least a second after the one before
        self.clock_ms = max(self.clock_ms + 1000, int(time.time() * 1000) + 1)
        comment_id = str(next(self.ids))
        comment = {
            "id": comment_id, "$URN": f"urn:li:comment:({post_urn},{comment_id})", "actor": actor,
            "object": post_urn, "message": {"text": text, "attributes": []},
            "created": {"actor": actor, "time": self.clock_ms}, "lastModified": {"actor": actor, "time": self.clock_ms},
            "commentUrn": f"urn:li:comment:({post_urn},{comment_id})",
        }
        if parent:
            comment["parentComment"] = parent
        self.comments.setdefault(post_urn, []).append(comment)
        return comment

    # --- the API ------------------------------------------------------------------------------------

    def route(self, method, path, query, headers, body):
        if headers.get("authorization") != f"Bearer {TOKEN}":
            raise Answer(401, error(401, "Invalid access token", 65600))
        if not re.fullmatch(r"20\d\d(0[1-9]|1[0-2])", headers.get("linkedin-version", "")):
            raise Answer(400, error(400, "A version must be present. Please specify a version by adding the "
                                         "LinkedIn-Version header.", 1000))
        if headers.get("x-restli-protocol-version") != "2.0.0":
            raise Answer(400, error(400, "Restli protocol version 2.0.0 is required"))
        if method == "POST" and path == "/rest/posts":
            return self._post(body or {})
        if method == "GET" and path == "/rest/posts":
            return 200, self._posts(query)
        match = re.fullmatch(r"/rest/socialActions/([^/]+)/comments", path)
        if method == "GET" and match:
            return 200, self._comments(unquote(match.group(1)), query)
        if method == "POST" and match:
            return self._comment(unquote(match.group(1)), body or {})
        raise Answer(404, error(404, f"No virtual resource found for {path}"))

    def _post(self, body: dict):
        if body.get("author") != ORGANIZATION:
            raise Answer(403, error(403, f"Not enough permissions to post as {body.get('author')}", 100))
        missing = [key for key in ("commentary", "visibility", "distribution", "lifecycleState") if key not in body]
        if missing:
            raise Answer(422, error(422, f"/{missing[0]} :: field is required but not found and has no default value"))
        if len(body["commentary"]) > 3000:
            raise Answer(422, error(422, "/commentary :: length of 3001 exceeds the maximum allowed"))
        for earlier in self.posted:
            if earlier["commentary"] == body["commentary"]:
                raise Answer(422, error(422, f"Content is a duplicate of {earlier['urn']}"))
        urn = f"urn:li:share:{next(self.ids)}"
        self.posted.append({**body, "urn": urn})
        return 201, {}, {"x-restli-id": urn}

    def _comment(self, post_urn: str, body: dict):
        """A comment of the organization on a post, under a comment when parentComment is given."""
        if body.get("actor") != ORGANIZATION:
            raise Answer(403, error(403, f"Not enough permissions to comment as {body.get('actor')}", 100))
        if post_urn not in {post["urn"] for post in self.posted} or body.get("object") != post_urn:
            raise Answer(404, error(404, f"Not found: {body.get('object')}"))
        text = (body.get("message") or {}).get("text") or ""
        if not text:
            raise Answer(422, error(422, "/message/text :: field is required but not found and has no default value"))
        parent = body.get("parentComment")
        earlier = self.comments.get(post_urn, [])
        if parent is not None and parent not in {comment["$URN"] for comment in earlier}:
            raise Answer(404, error(404, f"Not found: {parent}"))
        for comment in earlier:
            if (comment["actor"], comment["message"]["text"], comment.get("parentComment")) == (ORGANIZATION, text,
                                                                                                   parent):
                raise Answer(422, error(422, f"Content is a duplicate of {comment['$URN']}"))
        comment = self.add_comment(post_urn, text, actor=ORGANIZATION, parent=parent)
        return 201, comment, {"x-restli-id": comment["id"]}

    def _posts(self, query: dict) -> dict:
        """GET /rest/posts?q=author&author=<urn>: the author's posts, newest first; start/count paging."""
        if query.get("q") != ["author"] or query.get("author") != [ORGANIZATION]:
            raise Answer(403, error(403, "Not enough permissions to access: partnerApiPostsExternal.FINDER-author",
                                    100))
        start, count = int(query.get("start", ["0"])[0]), int(query.get("count", ["10"])[0])
        found = [{"id": post["urn"], "author": post["author"], "commentary": post["commentary"],
                  "lifecycleState": "PUBLISHED", "visibility": "PUBLIC"} for post in reversed(self.posted)]
        return {"paging": {"start": start, "count": count, "total": len(found), "links": []},
                "elements": found[start:start + count]}

    def _comments(self, urn: str, query: dict) -> dict:
        """Newest first, as LinkedIn lists them; start/count paging. For a post's URN its first-level comments, each
        with its commentsSummary (how many replies it has); for a comment's URN the replies under it."""
        start = int(query.get("start", ["0"])[0])
        count = int(query.get("count", ["10"])[0])
        every = [comment for comments in self.comments.values() for comment in comments]
        if urn.startswith("urn:li:comment:"):
            found = [comment for comment in reversed(every) if comment.get("parentComment") == urn]
            if self.replies_without_parent:
                found = [{key: value for key, value in comment.items() if key != "parentComment"} for comment in found]
        else:
            found = [{**comment, "commentsSummary": self._summary(comment["$URN"], every)}
                     for comment in reversed(self.comments.get(urn, [])) if "parentComment" not in comment]
        return {"paging": {"start": start, "count": count, "total": len(found), "links": []},
                "elements": found[start:start + count]}

    @staticmethod
    def _summary(comment_urn: str, every: list[dict]) -> dict:
        replies = sum(comment.get("parentComment") == comment_urn for comment in every)
        return {"selectedComments": [], "totalFirstLevelComments": replies, "aggregatedTotalComments": replies}
