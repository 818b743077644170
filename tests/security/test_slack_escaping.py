"""Slack reads <…> in a message's text as markup — <!channel> pings everyone in the channel, <https://…|label>
is a link whose label can say anything — and & as the start of an entity. Whatever people wrote (an incident's
title, a message's text) reaches Slack-compatible webhooks as words; the only markup is ours (the status page
link). The payloads are read where they cross the HTTP boundary."""

import json

import pytest
from django.utils import timezone

from comms import delivery, overdue
from comms.models import Delivery, WebhookEndpoint
from incidents.services import create_incident
from tests.comms.helpers import scheduled_message
from tests.comms.test_transports import http_response
from tests.factories import IncidentFactory
from tests.outermost_http import patched_requests

pytestmark = pytest.mark.django_db

PING = "<!channel>"
FAKE_LINK = "<https://evil.example|x>"


def text_fields(payload) -> list[str]:
    """Every "text" string anywhere in a Slack payload (the top-level text, each block's and element's)."""
    if isinstance(payload, dict):
        found = [value for key, value in payload.items() if key == "text" and isinstance(value, str)]
        return found + [text for value in payload.values() for text in text_fields(value)]
    if isinstance(payload, list):
        return [text for item in payload for text in text_fields(item)]
    return []


@pytest.fixture
def http():
    with patched_requests(return_value=http_response(200)) as request:
        yield request


def posted(http, url: str) -> dict:
    [body] = [call.kwargs["data"] for call in http.call_args_list if call.args[2] == url]
    return json.loads(body)


def test_a_slack_payload_carries_pings_links_and_ampersands_as_words_and_keeps_our_link(http, lead):
    WebhookEndpoint.objects.create(name="Slack", url="https://hooks.slack.example/T0/B0", format="slack")
    WebhookEndpoint.objects.create(name="Tool", url="https://tool.example/hook", format="json")
    incident = IncidentFactory(title=f"{PING} Checkout & payments")
    scheduled_message(
        lead, incident=incident, channels=["webhook"],
        headline=f"Reset your password: {FAKE_LINK}",
        explain=f"Payments & refunds fail. <!here> {FAKE_LINK}",
        acknowledge="Sorry <@U024BE7LH> & team.",
    )
    delivery.dispatch_due_messages()
    delivery.send_deliveries(list(Delivery.objects.values_list("pk", flat=True)))

    payload = posted(http, "https://hooks.slack.example/T0/B0")
    texts = text_fields(payload)
    people_wrote = [text for text in texts if "Status page" not in text]
    assert len(people_wrote) == 4  # the top-level text, the heading block, Explain, Acknowledge
    for text in people_wrote:
        assert "<" not in text and ">" not in text, text
    assert payload["text"] == ("*[SEV2 · Investigating] &lt;!channel&gt; Checkout &amp; payments*\n"
                               "Reset your password: &lt;https://evil.example|x&gt;")
    assert "Payments &amp; refunds fail. &lt;!here&gt; &lt;https://evil.example|x&gt;" in texts
    assert "Sorry &lt;@U024BE7LH&gt; &amp; team." in texts
    assert not any("&amp;amp;" in text or "&amp;lt;" in text for text in texts)  # escaped once
    assert payload["blocks"][-1]["elements"][0]["text"] == "<http://127.0.0.1:8000/status/|Status page>"
    # The EARS JSON format is not Slack's: its text stays as written.
    assert posted(http, "https://tool.example/hook")["message"]["headline"] == f"Reset your password: {FAKE_LINK}"


def test_an_overdue_reminder_reaches_an_internal_slack_endpoint_escaped_and_a_json_one_as_written(http, lead):
    WebhookEndpoint.objects.create(name="Slack", url="https://hooks.slack.example/ops", format="slack", internal=True)
    WebhookEndpoint.objects.create(name="Pager", url="https://pager.example/hook", format="json", internal=True)
    create_incident(actor=lead, title=f"{PING} Checkout & payments", severity="SEV1",
                    started_at=timezone.now() - timezone.timedelta(hours=1))

    assert overdue.remind_overdue() == 1

    slack = posted(http, "https://hooks.slack.example/ops")["text"]
    assert "“&lt;!channel&gt; Checkout &amp; payments”" in slack and "<" not in slack
    assert f"“{PING} Checkout & payments”" in posted(http, "https://pager.example/hook")["text"]
