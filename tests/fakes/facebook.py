"""A fake Graph API for one Facebook page: the shapes of developers.facebook.com/docs/graph-api for the endpoints
EARS uses.

POST /v21.0/{page-id}/feed (form: message, link) answers {"id": "<page-id>_<post-id>"}; a wrong token is error
190 (OAuthException, HTTP 400), the same message twice is error 506 (duplicate). GET /v21.0/{page-id}/feed
(fields=…comments…, limit) lists the page's latest posts with their comments, for listening; POST
/v21.0/{comment-id}/comments (form: message) replies to a comment as the page.
Errors are {"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}.
"""

import itertools
import json
import re
from datetime import UTC, datetime, timedelta

from tests.fakes import Answer, FakeServer

TOKEN = "fake-facebook-page-token"
PAGE_ID = "104000000000001"
VERSION = "v21.0"


def graph_error(code: int, message: str, *, kind: str = "OAuthException", subcode: int | None = None) -> dict:
    error = {"message": message, "type": kind, "code": code, "fbtrace_id": "AbCdEfGh123"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


def rate_limited(minutes: int) -> dict:
    """The answer to the next call while the page is over its Business Use Case limit (code 80001)."""
    usage = json.dumps({PAGE_ID: [{"type": "pages", "call_count": 100, "total_cputime": 12, "total_time": 14,
                                   "estimated_time_to_regain_access": minutes}]})
    return {"status": 400, "headers": {"X-Business-Use-Case-Usage": usage},
            "body": graph_error(80001, "There have been too many calls to this Page account. Wait a bit and try "
                                "again.", subcode=2446079)}


class FakeFacebook(FakeServer):
    def __init__(self):
        super().__init__()
        self.posted: list[dict] = []  # posts EARS made, in order
        self.page_posts: list[dict] = []  # the page's posts with their comments, oldest first
        self.ids = itertools.count(900_000_000_000_001)
        self.clock = datetime.now(UTC).replace(microsecond=0)

    def feed_path(self) -> str:
        return f"/{VERSION}/{PAGE_ID}/feed"

    def _tick(self) -> str:
        """Now, in whole seconds as the Graph API gives them (rounded up: later than any poll before it), and at
        least a second after the time before."""
        now = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
        self.clock = max(self.clock + timedelta(seconds=1), now)
        return self.clock.strftime("%Y-%m-%dT%H:%M:%S+0000")

    # --- content for the listening tests ------------------------------------------------------------

    def add_post(self, message: str = "Checkout is failing for some customers") -> dict:
        post_id = f"{PAGE_ID}_{next(self.ids)}"
        post = {"id": post_id, "message": message, "created_time": self._tick(), "comments": []}
        self.page_posts.append(post)
        return post

    def add_comment(self, post: dict, message: str, *, name: str = "Carol Jones", person_id: str = "5550001",
                    parent: str | None = None) -> dict:
        """A comment on a page post; `from` is only given for people who allowed it (pages_read_user_content)."""
        comment_id = f"{post['id'].split('_')[1]}_{next(self.ids)}"
        comment = {"id": comment_id, "message": message, "created_time": self._tick(),
                   "from": {"name": name, "id": person_id},
                   "permalink_url": f"https://www.facebook.com/{post['id']}?comment_id={comment_id}"}
        if parent:
            comment["parent"] = {"id": parent}
        post["comments"].append(comment)
        return comment

    # --- the API ------------------------------------------------------------------------------------

    def route(self, method, path, query, headers, body):
        if headers.get("authorization") != f"Bearer {TOKEN}":
            raise Answer(400, graph_error(190, "Invalid OAuth access token - Cannot parse access token"))
        if path == self.feed_path() and method == "POST":
            return self._post(body or {})
        if path == self.feed_path() and method == "GET":
            return 200, self._feed(query)
        if method == "POST" and path.startswith(f"/{VERSION}/") and path.endswith("/comments"):
            return self._reply(path.split("/")[2], body or {})
        if method == "GET" and path.startswith(f"/{VERSION}/") and path.endswith("/comments"):
            return 200, self._post_comments(path.split("/")[2], query)
        raise Answer(400, graph_error(100, "Unsupported request - method type or object does not exist",
                                      kind="GraphMethodException", subcode=33))

    def _post(self, body: dict):
        message = body.get("message", "")
        if not message and not body.get("link"):
            raise Answer(400, graph_error(100, "(#100) Missing message or attachment", kind="OAuthException"))
        if any(post["message"] == message for post in self.posted):
            raise Answer(400, graph_error(506, "Duplicate status message", subcode=1455006))
        post = {"id": f"{PAGE_ID}_{next(self.ids)}", "message": message, "link": body.get("link"),
                "created_time": self._tick()}
        self.posted.append(post)
        return 200, {"id": post["id"]}

    def _reply(self, comment_id: str, body: dict):
        """POST /{comment-id}/comments: a comment under it, as the page; {"id": "<post>_<comment>"}."""
        for post in self.page_posts:
            for comment in post["comments"]:
                if comment["id"] == comment_id:
                    if not body.get("message"):
                        raise Answer(400, graph_error(100, "(#100) Missing message", kind="OAuthException"))
                    reply = self.add_comment(post, body["message"], name="Acme", person_id=PAGE_ID,
                                             parent=comment_id)
                    return 200, {"id": reply["id"]}
        raise Answer(400, graph_error(100, f"Unsupported post request. Object with ID '{comment_id}' does not "
                                      "exist", kind="GraphMethodException", subcode=33))

    def _feed(self, query: dict) -> dict:
        """The latest `limit` posts, newest first, each with its first page of comments newest first (as the field
        expansion comments.order(reverse_chronological).limit(n) asks: n of them, 25 by default, and a paging cursor
        when there are more). As the comments edge does: only top-level comments, unless the expansion asks for
        filter(stream), which lists replies under comments too (each with its parent)."""
        limit = int(query.get("limit", ["25"])[0])
        fields = query.get("fields", [""])[0]
        stream = "comments.filter(stream)" in fields
        per_post = int(found.group(1)) if (found := re.search(r"comments[^{]*\.limit\((\d+)\)", fields)) else 25
        posts = list(reversed(self.page_posts))[:limit]
        data = [{"id": post["id"], "permalink_url": f"https://www.facebook.com/{post['id']}",
                 "comments": self._comments_page(post, stream, 0, per_post)} for post in posts]
        return {"data": data, "paging": {}}

    def _post_comments(self, post_id: str, query: dict) -> dict:
        """GET /{post-id}/comments (filter, order reverse_chronological, limit, after): a page of a post's comments."""
        post = next((post for post in self.page_posts if post["id"] == post_id), None)
        if post is None:
            raise Answer(400, graph_error(100, f"Unsupported get request. Object with ID '{post_id}' does not exist",
                                          kind="GraphMethodException", subcode=33))
        after = query.get("after", [""])[0]
        start = int(after[len("offset-"):]) if after.startswith("offset-") else 0
        return self._comments_page(post, query.get("filter", [""])[0] == "stream", start,
                                   int(query.get("limit", ["25"])[0]))

    @staticmethod
    def _comments_page(post: dict, stream: bool, start: int, limit: int) -> dict:
        listed = [comment for comment in reversed(post["comments"]) if stream or "parent" not in comment]
        page = listed[start:start + limit]
        paging = {"cursors": {"before": f"offset-{start}", "after": f"offset-{start + len(page)}"}}
        if start + limit < len(listed):
            paging["next"] = f"https://graph.facebook.com/{VERSION}/{post['id']}/comments?after=offset-{start + limit}"
        return {"data": page, "paging": paging}
