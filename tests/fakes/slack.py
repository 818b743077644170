"""A fake Slack incoming webhook: POST /services/<team>/<bot>/<secret> with a JSON message, answered as Slack does
(docs.slack.dev, "Sending messages using incoming webhooks" → "Handling errors"): 200 "ok" (text/plain); 400
"invalid_payload" for a body without text or blocks; 404 "no_service" for a webhook that was removed; 410
"channel_is_archived"; 429 with Retry-After. Use .remove(path) / .archive(path) to make a webhook answer so."""

from tests.fakes import Answer, FakeServer, Text

HOOK_PATH = "/services/T0001/B0001/fakesecret"


class FakeSlackWebhook(FakeServer):
    def __init__(self):
        super().__init__()
        self.posted: list[dict] = []  # (accepted) messages, in order
        self.removed: set[str] = set()
        self.archived: set[str] = set()

    @property
    def hook_url(self) -> str:
        return self.url + HOOK_PATH

    def remove(self, path: str = HOOK_PATH) -> None:
        self.removed.add(path)

    def archive(self, path: str = HOOK_PATH) -> None:
        self.archived.add(path)

    def rate_limit(self, seconds: int = 30, path: str = HOOK_PATH, times: int = 1) -> None:
        self.fail_next(path, 429, times=times, headers={"Retry-After": str(seconds)}, body=Text("rate_limited"))

    def route(self, method, path, query, headers, body):
        if method != "POST" or not path.startswith("/services/"):
            raise Answer(404, Text("no_service"))
        if path in self.removed:
            raise Answer(404, Text("no_service"))
        if path in self.archived:
            raise Answer(410, Text("channel_is_archived"))
        if not isinstance(body, dict) or not (body.get("text") or body.get("blocks")):
            raise Answer(400, Text("invalid_payload"))
        self.posted.append(body)
        return 200, Text("ok")
