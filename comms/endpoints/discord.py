"""Discord webhooks (https://discord.com/api/webhooks/<id>/<token>): JSON {"content", "embeds"}, posted with
?wait=true so that Discord answers the message it made (its id is the delivery's external id). A 429 carries
{"retry_after": seconds}; allowed_mentions is empty, so nothing in an update can ping @everyone or a role."""

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings

from comms.endpoints.kinds import EndpointKind, headline_parts, host_in, refuse, status_link, test_sentences
from comms.endpoints.posting import post_json
from comms.maintenance.rendering import notice_parts

WEBHOOK_PATH = re.compile(r"/api(?:/v\d+)?/webhooks/\d+/[A-Za-z0-9_-]+/?")
MARKDOWN = re.compile(r"([\\*_~`|>#\[\]()<@:-])")
SEVERITY_COLOURS = {"SEV1": 0xB91C1C, "SEV2": 0xC2410C, "SEV3": 0xA16207, "SEV4": 0x1D4ED8}
NEUTRAL_COLOUR, MAINTENANCE_COLOUR = 0x374151, 0x4338CA
TITLE_LIMIT, DESCRIPTION_LIMIT = 256, 4096


def discord_escape(text: str) -> str:
    """Discord's markdown characters backslash-escaped, so people's words show as written."""
    return MARKDOWN.sub(r"\\\1", text)


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def with_wait(url: str) -> str:
    parts = urlsplit(url)
    query = [(key, value) for key, value in parse_qsl(parts.query) if key != "wait"] + [("wait", "true")]
    return urlunsplit(parts._replace(query=urlencode(query)))


class DiscordKind(EndpointKind):
    kind = "discord"
    label = "Discord"
    url_help = "A Discord webhook URL (channel settings → Integrations → Webhooks), https://discord.com/api/webhooks/…"

    def check_url(self, url):
        if not host_in(url, settings.DISCORD_WEBHOOK_HOSTS) or not WEBHOOK_PATH.fullmatch(urlsplit(url).path):
            refuse("A Discord webhook URL looks like https://discord.com/api/webhooks/<id>/<token> (channel "
                   "settings → Integrations → Webhooks → Copy Webhook URL).")

    def message_payload(self, message, unsubscribe_url):
        return self._embed(*headline_parts(message), unsubscribe_url,
                           SEVERITY_COLOURS.get(message.incident.severity, NEUTRAL_COLOUR))

    def notice_payload(self, notice, unsubscribe_url):
        return self._embed(*notice_parts(notice), unsubscribe_url, MAINTENANCE_COLOUR)

    def _embed(self, title, headline, paragraphs, unsubscribe_url, colour):
        links = f"[Status page]({status_link()}) · [Unsubscribe this channel]({unsubscribe_url})"
        text = "\n\n".join(discord_escape(part) for part in (headline, *paragraphs))
        description = f"{_fit(text, DESCRIPTION_LIMIT - len(links) - 2)}\n\n{links}"
        return {
            "content": "",
            "embeds": [{
                "title": _fit(title, TITLE_LIMIT),  # embed titles show no markdown
                "description": description,
                "url": status_link(),
                "color": colour,
            }],
            "allowed_mentions": {"parse": []},
        }

    def test_payload(self, endpoint, confirm_url, unsubscribe_url):
        first, second = test_sentences(endpoint)
        return {
            "content": "",
            "embeds": [{
                "title": _fit(f"{settings.STATUS_PAGE_NAME} status updates", TITLE_LIMIT),
                "description": f"{discord_escape(first)}\n{discord_escape(second)}\n\n"
                               f"[Confirm]({confirm_url}) · [Cancel this request]({unsubscribe_url})",
            }],
            "allowed_mentions": {"parse": []},
        }

    def post(self, session, endpoint, payload, delivery_code, event):
        response = post_json(session, self.name(endpoint), with_wait(endpoint.url), payload)
        try:
            message_id = str(response.json().get("id") or "") if response.status_code == 200 else ""
        except ValueError:
            message_id = ""
        return message_id or f"{endpoint.pk}:{delivery_code[:12]}"
