"""Slack incoming webhooks (https://hooks.slack.com/services/…), posted with slack-sdk's WebhookClient.

WebhookClient opens its own urllib connection, which would follow redirects, honour a proxy from the environment
and read any answer whole; GuardedWebhookClient keeps its body building and answer type but sends through
core.outbound.OutboundSession (no redirects, checked addresses, short timeouts, a capped answer) and leaves retries
to the delivery machinery (no retry handlers)."""

import logging
from urllib.parse import urlsplit

import requests
from django.conf import settings
from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock
from slack_sdk.webhook import WebhookClient, WebhookResponse

from comms.endpoints.kinds import EndpointKind, host_in, refuse, status_link, test_sentences, welcome_sentences
from comms.endpoints.posting import judge, refused, retry_after, unreachable
from comms.maintenance.rendering import render_notice_slack
from comms.rendering import render_slack, slack_escape
from core.outbound import READ_TIMEOUT_SECONDS, TIMEOUT, OutboundRefused, OutboundSession

# slack-sdk's clients log each request's URL and body, and each answer, at DEBUG: a webhook's URL is its credential,
# and oauth.v2.access answers with one. They log here, where nothing below WARNING is written whatever LOG_LEVEL says.
sdk_log = logging.getLogger(f"{__name__}.sdk")
sdk_log.setLevel(logging.WARNING)


class GuardedWebhookClient(WebhookClient):
    def __init__(self, url: str, session: OutboundSession):
        if not isinstance(session, OutboundSession):
            raise TypeError("Slack webhooks are posted only through a core.outbound.OutboundSession")
        super().__init__(url, timeout=READ_TIMEOUT_SECONDS, retry_handlers=[], logger=sdk_log)
        self.proxy = None  # never a proxy: it would resolve the host unchecked
        self.http = session
        self.last_response = None

    def _perform_http_request_internal(self, url, req) -> WebhookResponse:
        response = self.http.post(url, data=req.data, headers=dict(req.header_items()), timeout=TIMEOUT,
                                  allow_redirects=False)
        self.last_response = response
        return WebhookResponse(url=url, status_code=response.status_code,
                               body=response.content.decode("utf-8", "replace"), headers=dict(response.headers))


def _context(text: str) -> dict:
    return ContextBlock(elements=[MarkdownTextObject(text=text)]).to_dict()


def _two_sentences(sentences: tuple[str, str], links: str) -> dict:
    """A message of two sentences (escaped here) under a line of links (already Slack markup)."""
    first, second = (slack_escape(sentence) for sentence in sentences)
    return {
        "text": first,
        "blocks": [SectionBlock(text=MarkdownTextObject(text=f"{first}\n{second}")).to_dict(), _context(links)],
        "unfurl_links": False,
    }


class SlackKind(EndpointKind):
    kind = "slack"
    label = "Slack"
    url_help = "An incoming webhook URL from your Slack app, https://hooks.slack.com/services/…"

    def check_url(self, url):
        if not host_in(url, settings.SLACK_WEBHOOK_HOSTS) or not urlsplit(url).path.startswith("/services/"):
            refuse("A Slack webhook URL starts with https://hooks.slack.com/services/ (create an incoming webhook "
                   "in your Slack app and copy its URL).")

    def message_payload(self, message, unsubscribe_url):
        # Every text escaped (slack_escape); the internal Slack webhooks' layout.
        return self._with_unsubscribe(render_slack(message), unsubscribe_url)

    def notice_payload(self, notice, unsubscribe_url):
        return self._with_unsubscribe(render_notice_slack(notice), unsubscribe_url)

    def _with_unsubscribe(self, payload, unsubscribe_url):
        payload["blocks"].append(_context(f"<{unsubscribe_url}|Unsubscribe this channel>"))
        payload["unfurl_links"] = False
        return payload

    def test_payload(self, endpoint, confirm_url, unsubscribe_url):
        return _two_sentences(test_sentences(endpoint),
                              f"<{confirm_url}|Confirm> · <{unsubscribe_url}|Cancel this request>")

    def welcome_payload(self, endpoint, unsubscribe_url):
        return _two_sentences(welcome_sentences(endpoint),
                              f"<{status_link()}|Status page> · <{unsubscribe_url}|Unsubscribe this channel>")

    def post(self, session, endpoint, payload, delivery_code, event):
        name = self.name(endpoint)
        client = GuardedWebhookClient(endpoint.url, session)
        try:
            answer = client.send_dict(payload)
        except OutboundRefused as refusal:
            raise refused(name, refusal) from None
        except requests.RequestException as error:
            raise unreachable(name, error) from None
        # Slack answers 200 "ok", or an error code as the body: 404 no_service, 410 channel_is_archived, …
        judge(name, answer.status_code, (answer.body or "")[:80],
              retry_after(client.last_response) if client.last_response is not None else None)
        return f"{endpoint.pk}:{delivery_code[:12]}"
