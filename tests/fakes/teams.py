"""A fake Microsoft Teams Workflows webhook (Power Automate's "When a Teams webhook request is received" trigger):
POST with a message whose attachments hold an Adaptive Card, answered 202 Accepted with no body (the flow posts the
card later). A body that is not such a message is refused 400 (the flow's trigger schema); a deleted flow is 404."""

from tests.fakes import Answer, FakeServer

HOOK_PATH = "/workflows/fake0123/triggers/manual/paths/invoke"
CARD = "application/vnd.microsoft.card.adaptive"


class FakeTeamsWorkflow(FakeServer):
    def __init__(self):
        super().__init__()
        self.cards: list[dict] = []  # the Adaptive Cards' content, in order
        self.deleted = False

    @property
    def hook_url(self) -> str:
        return self.url + HOOK_PATH + "?api-version=2016-06-01&sig=fakesig"

    def route(self, method, path, query, headers, body):
        if method != "POST" or path != HOOK_PATH or self.deleted:
            raise Answer(404, {"error": {"code": "WorkflowNotFound", "message": "The workflow was not found."}})
        attachments = body.get("attachments") if isinstance(body, dict) else None
        cards = all(item.get("contentType") == CARD and item.get("content", {}).get("type") == "AdaptiveCard"
                    for item in attachments or ())
        if body.get("type") != "message" or not attachments or not cards:
            raise Answer(400, {"error": {"code": "InvalidRequestContent", "message": "Not an Adaptive Card message."}})
        self.cards.extend(attachment["content"] for attachment in attachments)
        return 202, None
