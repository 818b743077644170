"""Internal notifications that are not customer messages (overdue reminders, spikes, escalations).

A notification that cannot be sent never stops the work that triggered it: the failure is logged and
returned as a sentence, for the caller to put on the incident timeline.
"""

import logging
import uuid

from comms.channels.base import TransportError
from comms.channels.webhook import post_json
from comms.models import WebhookEndpoint
from comms.rendering import slack_escape
from core.outbound import OutboundSession

log = logging.getLogger(__name__)


def notify_internal_webhooks(event: str, payload: dict) -> int:
    """POST to every active internal endpoint; failures are logged, not retried (the next reminder follows)."""
    delivered = 0
    with OutboundSession() as session:
        for endpoint in WebhookEndpoint.objects.filter(active=True, internal=True):
            body = {"text": payload.get("text", event), **payload, "event": event}
            if endpoint.format == WebhookEndpoint.Format.SLACK:  # Slack reads <…> and & in text as markup
                body["text"] = slack_escape(body["text"])
            try:
                post_json(session, endpoint, body, uuid.uuid4().hex, event)
                delivered += 1
            except TransportError as error:
                log.warning("internal webhook %s failed: %s", endpoint.name, error)
    return delivered
