"""A fake Postmark API (postmarkapp.com/developer/api/email-api): POST /email with the X-Postmark-Server-Token
header. Answers as Postmark does: 200 with MessageID; 401 without the token; 422 with ErrorCode 406 for an address
Postmark marked inactive (it bounced or complained there); whatever `fail_next` says otherwise."""

import itertools

from tests.fakes import Answer, FakeServer

TOKEN = "fake-postmark-token"


class FakePostmark(FakeServer):
    def __init__(self, *, inactive=()):
        super().__init__()
        self.inactive = {address.lower() for address in inactive}
        self.sent: list[dict] = []
        self.ids = itertools.count(1)

    def route(self, method, path, query, headers, body):
        if (method, path) != ("POST", "/email"):
            raise Answer(404, {"ErrorCode": 404, "Message": "Not found."})
        if headers.get("x-postmark-server-token") != TOKEN:
            raise Answer(401, {"ErrorCode": 10, "Message": "No Account or Server API tokens were supplied."})
        to = body["To"]
        if to.lower() in self.inactive:
            raise Answer(422, {"ErrorCode": 406, "Message": (
                "You tried to send to a recipient that has been marked as inactive.\n"
                f"Found inactive addresses: {to.lower()}.\n"
                "Inactive recipients are ones that have generated a hard bounce or a spam complaint. ")})
        self.sent.append(body)
        return 200, {"To": to, "SubmittedAt": "2026-12-07T12:00:00Z", "MessageID": f"pm-{next(self.ids)}",
                     "ErrorCode": 0, "Message": "OK"}
