import hashlib
import hmac
import json
from contextlib import contextmanager

import requests

from comms.channels.base import Recipient, Transport, TransportError, register
from comms.choices import Audience
from comms.maintenance.rendering import render_notice_slack, render_notice_webhook
from comms.models import WebhookEndpoint
from comms.rendering import render_slack, render_webhook
from core.outbound import TIMEOUT, OutboundRefused, OutboundSession
from core.validators import whole_number

SIGNATURE_HEADER = "X-EARS-Signature"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_json(session: OutboundSession, endpoint: WebhookEndpoint, payload: dict, delivery_code: str, event: str):
    """POST a signed JSON body through the outbound guard (core.outbound). 2xx is success; 429, 5xx and network
    errors are worth retrying; a URL the guard refuses and a redirect (never followed) are permanent failures."""
    if not isinstance(session, OutboundSession):
        raise TypeError("webhooks are posted only through a core.outbound.OutboundSession")
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "EARS-webhooks/1",
        SIGNATURE_HEADER: sign(endpoint.secret, body),
        "X-EARS-Event": event,
        "X-EARS-Delivery": delivery_code,
    }
    try:
        response = session.post(endpoint.url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False)
    except OutboundRefused as refusal:
        raise TransportError(f"{endpoint.url} was refused: {refusal}.", permanent=True) from None
    except requests.RequestException as error:
        raise TransportError(f"{endpoint.url} could not be reached: {type(error).__name__}", permanent=False) from None
    if 200 <= response.status_code < 300:
        return response
    if 300 <= response.status_code < 400:
        raise TransportError(
            f"{endpoint.url} answered {response.status_code}, a redirect, which is never followed: "
            "set the endpoint's URL to where it points.",
            permanent=True,
        )
    retry_after = response.headers.get("Retry-After")
    transient = response.status_code == 429 or response.status_code >= 500 or response.status_code == 408
    raise TransportError(
        f"{endpoint.url} answered {response.status_code}",
        permanent=not transient,
        retry_after=float(seconds) if (seconds := whole_number((retry_after or "").strip())) is not None else None,
    )


@register
class WebhookTransport(Transport):
    kind = "webhook"
    label = "Webhooks"

    def __init__(self):
        self.http = None

    def recipients(self, message):
        endpoints = WebhookEndpoint.objects.filter(active=True)
        if message.audience != Audience.PUBLIC:
            endpoints = endpoints.filter(internal=True)
        for endpoint_id in endpoints.order_by("pk").values_list("pk", flat=True):
            yield Recipient(address=f"endpoint:{endpoint_id}", endpoint_id=endpoint_id)

    @contextmanager
    def session(self):
        with OutboundSession() as http:
            self.http = http
            yield self

    def send(self, delivery) -> str:
        endpoint = delivery.endpoint
        if endpoint is None or not endpoint.active:
            raise TransportError("The webhook endpoint was removed or deactivated.", permanent=True)
        slack = endpoint.format == WebhookEndpoint.Format.SLACK
        if delivery.notice_id:  # a notice about a maintenance window
            notice = delivery.notice
            payload = render_notice_slack(notice) if slack else render_notice_webhook(notice)
            event = f"maintenance.{notice.kind}"
        else:
            message = delivery.message
            payload = render_slack(message) if slack else render_webhook(message)
            event = "message.published"
        post_json(self.http or OutboundSession(), endpoint, payload, delivery.code, event)
        return f"{endpoint.pk}:{delivery.code[:12]}"
