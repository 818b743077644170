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


CLIENT_ID = "1111111111.2222222222"
CLIENT_SECRET = "0123456789abcdef0123456789abcdef"


class FakeSlack(FakeSlackWebhook):
    """Slack's incoming webhooks plus the two ends of "Add to Slack" (OAuth v2, docs.slack.dev "Installing with
    OAuth"):

    - POST /api/oauth.v2.access, HTTP basic auth client_id:client_secret, form fields code and redirect_uri. Answers
      200 {"ok": true, "access_token", "token_type": "bot", "scope": "incoming-webhook", "team": {"id", "name"},
      "incoming_webhook": {"channel", "channel_id", "configuration_url", "url"}, …} for a code given out by
      `grant`; 200 {"ok": false, "error": …}: "invalid_code" for any other code (and for one used already, as Slack
      does), "bad_client_secret" / "invalid_client_id" for wrong credentials, "bad_redirect_uri" when the
      redirect_uri differs from the one the code was granted for.
    - GET /oauth/v2/authorize: the visitor says yes at once — 302 to redirect_uri?code=…&state=… with a code granted
      for `next_install` (or ?error=access_denied&state=… after `deny_next()`).
    """

    def __init__(self):
        super().__init__()
        self.grants: dict[str, dict] = {}  # code → the installation it gives
        self.next_install: dict = {}
        self.denying = False

    def grant(self, code: str, webhook_url: str | None = None, channel: str = "#status", team: str = "Acme",
              redirect_uri: str | None = None) -> str:
        self.grants[code] = {"url": webhook_url or self.hook_url, "channel": channel, "team": team,
                             "redirect_uri": redirect_uri}
        return code

    def deny_next(self) -> None:
        self.denying = True

    def route(self, method, path, query, headers, body):
        if path == "/api/oauth.v2.access":
            return self.oauth_v2_access(method, headers, body or {})
        if path == "/oauth/v2/authorize" and method == "GET":
            return self.authorize(query)
        return super().route(method, path, query, headers, body)

    def oauth_v2_access(self, method, headers, body):
        import base64

        if method != "POST":
            return 200, {"ok": False, "error": "invalid_request"}
        client_id, _, secret = base64.b64decode(headers.get("authorization", "Basic ")[6:]).decode().partition(":")
        if client_id != CLIENT_ID:
            return 200, {"ok": False, "error": "invalid_client_id"}
        if secret != CLIENT_SECRET:
            return 200, {"ok": False, "error": "bad_client_secret"}
        installation = self.grants.pop(body.get("code", ""), None)  # a code works once
        if installation is None:
            return 200, {"ok": False, "error": "invalid_code"}
        if installation["redirect_uri"] and body.get("redirect_uri") != installation["redirect_uri"]:
            return 200, {"ok": False, "error": "bad_redirect_uri"}
        return 200, {
            "ok": True, "app_id": "A0000000001", "authed_user": {"id": "U0000000001"}, "scope": "incoming-webhook",
            "token_type": "bot", "access_token": "xoxb-fake-bot-token", "bot_user_id": "U0000000002",
            "team": {"id": "T0001", "name": installation["team"]}, "enterprise": None, "is_enterprise_install": False,
            "incoming_webhook": {"channel": installation["channel"], "channel_id": "C0000000001",
                                 "configuration_url": "https://acme.slack.com/services/B0001",
                                 "url": installation["url"]},
        }

    def authorize(self, query):
        from urllib.parse import urlencode

        redirect_uri, state = query["redirect_uri"][0], query.get("state", [""])[0]
        if self.denying:
            self.denying = False
            answer = {"error": "access_denied", "state": state}
        else:
            code = self.grant(f"code-{len(self.requests)}", **self.next_install)
            answer = {"code": code, "state": state}
        return 302, None, {"Location": f"{redirect_uri}?{urlencode(answer)}"}
