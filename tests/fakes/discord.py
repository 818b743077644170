"""A fake Discord webhook: POST /api/webhooks/<id>/<token> with JSON {"content", "embeds", "allowed_mentions"}, as
documented at discord.com/developers/docs/resources/webhook#execute-webhook: 204 No Content, or with ?wait=true
200 and the message it made ({"id", "channel_id", "content", "embeds", …}); 400 when there is neither content nor
an embed; 404 {"code": 10015, "message": "Unknown Webhook"} for a deleted webhook; 429 {"message", "retry_after":
seconds (a float), "global"} with a Retry-After header."""

import itertools
import math

from tests.fakes import Answer, FakeServer

HOOK_PATH = "/api/webhooks/112233445566778899/fake-discord-token"


class FakeDiscordWebhook(FakeServer):
    def __init__(self):
        super().__init__()
        self.posted: list[dict] = []
        self.deleted: set[str] = set()
        self.ids = itertools.count(1_200_000_000_000_000_001)

    @property
    def hook_url(self) -> str:
        return self.url + HOOK_PATH

    def delete(self, path: str = HOOK_PATH) -> None:
        self.deleted.add(path)

    def rate_limit(self, retry_after: float = 1.5, path: str = HOOK_PATH, times: int = 1) -> None:
        self.fail_next(path, 429, times=times, headers={"Retry-After": str(math.ceil(retry_after))},
                       body={"message": "You are being rate limited.", "retry_after": retry_after, "global": False})

    def route(self, method, path, query, headers, body):
        if method != "POST" or not path.startswith("/api/webhooks/") or path in self.deleted:
            raise Answer(404, {"code": 10015, "message": "Unknown Webhook"})
        if not isinstance(body, dict) or not (body.get("content") or body.get("embeds")):
            raise Answer(400, {"code": 50006, "message": "Cannot send an empty message"})
        message = {"id": str(next(self.ids)), "channel_id": "998877", "type": 0, **body}
        self.posted.append(message)
        if query.get("wait") == ["true"]:
            return 200, message
        return 204, None
