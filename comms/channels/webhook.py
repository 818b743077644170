import hashlib
import hmac
import json
from contextlib import contextmanager

import requests

from comms.channels.base import Recipient, Transport, TransportError, register
from comms.choices import Audience
from comms.models import WebhookEndpoint
from comms.rendering import render_slack, render_webhook

SIGNATURE_HEADER = "X-EARS-Signature"
TIMEOUT_SECONDS = 10


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_json(session: requests.Session, endpoint: WebhookEndpoint, payload: dict, delivery_code: str, event: str):
    """POST a signed JSON body. 2xx is success; 429, 5xx and network errors are worth retrying."""
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "EARS-webhooks/1",
        SIGNATURE_HEADER: sign(endpoint.secret, body),
        "X-EARS-Event": event,
        "X-EARS-Delivery": delivery_code,
    }
    try:
        response = session.post(endpoint.url, data=body, headers=headers, timeout=TIMEOUT_SECONDS)
    except requests.RequestException as error:
        raise TransportError(f"{endpoint.url} could not be reached: {type(error).__name__}", permanent=False) from None
    if 200 <= response.status_code < 300:
        return response
    retry_after = response.headers.get("Retry-After")
    transient = response.status_code == 429 or response.status_code >= 500 or response.status_code == 408
    raise TransportError(
        f"{endpoint.url} answered {response.status_code}",
        permanent=not transient,
        retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
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
        with requests.Session() as http:
            self.http = http
            yield self

    def send(self, delivery) -> str:
        endpoint = delivery.endpoint
        if endpoint is None or not endpoint.active:
            raise TransportError("The webhook endpoint was removed or deactivated.", permanent=True)
        message = delivery.message
        payload = render_slack(message) if endpoint.format == WebhookEndpoint.Format.SLACK else render_webhook(message)
        post_json(self.http or requests.Session(), endpoint, payload, delivery.code, "message.published")
        return f"{endpoint.pk}:{delivery.code[:12]}"
