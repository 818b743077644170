"""Microsoft Teams through a Workflows webhook (Power Automate: "Post to a channel when a webhook request is
received"), which takes a message with an Adaptive Card attachment and answers 202 Accepted. The Office 365
connectors (…webhook.office.com) are retired and refused.

Text people wrote goes in TextRuns of RichTextBlocks, which Teams shows as written (a TextBlock would read
markdown: a headline could turn into a link)."""

from urllib.parse import urlsplit

from django.conf import settings

from comms.endpoints.kinds import EndpointKind, headline_parts, host_in, refuse, status_link, test_sentences
from comms.endpoints.posting import post_json
from comms.maintenance.rendering import notice_parts

RETIRED_CONNECTOR_HOSTS = ("outlook.office.com", "outlook.office365.com")


def _text(text: str, **style) -> dict:
    return {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": text, **style}]}


def _card(body: list[dict], links: list[tuple[str, str]]) -> dict:
    return {
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": None,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": body,
                "actions": [{"type": "Action.OpenUrl", "title": title, "url": url} for title, url in links],
            },
        }],
    }


class TeamsKind(EndpointKind):
    kind = "teams"
    label = "Microsoft Teams"
    url_help = ("A Teams Workflows webhook URL (in the channel: Workflows → “Post to a channel when a webhook request "
                "is received”), https://….logic.azure.com/… or https://….api.powerplatform.com/…")

    def check_url(self, url):
        host = (urlsplit(url).hostname or "").rstrip(".").lower()
        if host.endswith(".webhook.office.com") or host_in(url, RETIRED_CONNECTOR_HOSTS):
            refuse("Office 365 connector webhooks are retired by Microsoft. Create a Workflows webhook in the Teams "
                   "channel (“Post to a channel when a webhook request is received”) and use its URL.")

    def message_payload(self, message, unsubscribe_url):
        return self._update_card(*headline_parts(message), unsubscribe_url)

    def notice_payload(self, notice, unsubscribe_url):
        return self._update_card(*notice_parts(notice), unsubscribe_url)

    def _update_card(self, title, headline, paragraphs, unsubscribe_url):
        body = [_text(title, weight="Bolder", size="Medium"), _text(headline, weight="Bolder"),
                *(_text(paragraph) for paragraph in paragraphs)]
        return _card(body, [("Status page", status_link()), ("Unsubscribe this channel", unsubscribe_url)])

    def test_payload(self, endpoint, confirm_url, unsubscribe_url):
        first, second = test_sentences(endpoint)
        body = [_text(f"{settings.STATUS_PAGE_NAME} status updates", weight="Bolder", size="Medium"),
                _text(first), _text(second)]
        return _card(body, [("Confirm", confirm_url), ("Cancel this request", unsubscribe_url)])

    def post(self, session, endpoint, payload, delivery_code, event):
        post_json(session, self.name(endpoint), endpoint.url, payload)
        return f"{endpoint.pk}:{delivery_code[:12]}"  # 202 Accepted, with no id
