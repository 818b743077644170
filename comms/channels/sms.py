"""SMS through Twilio: an approved public message becomes one text message to each confirmed SMS subscriber.

Sent with the `twilio` package's Client.messages.create, from TWILIO_FROM_NUMBER or through
TWILIO_MESSAGING_SERVICE_SID. Twilio's errors map to TransportError: 429, 5xx and a failed connection are transient
(the delivery machinery retries them), 21610 (the number replied STOP) is permanent and opts the subscriber out,
21211 / 21614 (not a valid mobile number) and every other 4xx are permanent.

Twilio has no idempotency key for messages, so a request whose outcome is unknown (sent, then no answer in
REQUEST_TIMEOUT_SECONDS) is not retried at all: it is recorded as failed, saying so, and a lead decides (the
message page's retry). The client itself never retries; only the delivery machinery does (comms.delivery.send).
"""

import logging
import re

import requests
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from comms.channels.base import DeliverySkipped, Recipient, Refusal, Transport, TransportError, register
from comms.choices import Audience
from comms.maintenance.rendering import render_notice_sms
from comms.models import SmsSubscriber
from comms.rendering import render_sms

# The twilio package logs every request at INFO (URL and headers): ten lines per text message. Warnings only.
QUIET_LOG = logging.getLogger("comms.channels.sms.twilio")
QUIET_LOG.setLevel(logging.WARNING)
TWILIO_API = "https://api.twilio.com"
REQUEST_TIMEOUT_SECONDS = 15
NOT_CONFIGURED = ("SMS is not configured: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER (or "
                  "TWILIO_MESSAGING_SERVICE_SID).")
# Twilio error codes (https://www.twilio.com/docs/api/errors)
UNSUBSCRIBED_RECIPIENT = 21610  # the number replied STOP: Twilio refuses to text it until it replies START
INVALID_NUMBERS = {21211: "is not a valid phone number", 21614: "is not a mobile number that can receive SMS"}
AUTHENTICATION_FAILED = 20003
PHONE_NUMBER = re.compile(r"\+?\d[\d ()-]{6,}\d")


class RecipientOptedOut(TransportError):
    """Twilio refused the number because it replied STOP (21610)."""

    def __init__(self, message: str):
        super().__init__(message, permanent=True)


class TwilioApiClient(TwilioHttpClient):
    """Twilio's own HTTP client, sending to TWILIO_API_BASE_URL instead of https://api.twilio.com (a local fake in
    the tests, or a self-hosted egress proxy), with a timeout, and keeping the last response's headers (Retry-After,
    which TwilioRestException does not carry)."""

    def __init__(self):
        super().__init__(timeout=REQUEST_TIMEOUT_SECONDS, logger=QUIET_LOG)
        self.last_headers = {}

    def request(self, method, url, *args, **kwargs):
        if url.startswith(TWILIO_API) and settings.TWILIO_API_BASE_URL != TWILIO_API:
            url = settings.TWILIO_API_BASE_URL + url[len(TWILIO_API) :]
        self.last_headers = {}
        response = super().request(method, url, *args, **kwargs)
        self.last_headers = dict(response.headers or {})
        return response


def twilio_client() -> Client:
    return Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=TwilioApiClient())


def _retry_after(client: Client) -> float | None:
    value = {key.lower(): value for key, value in client.http_client.last_headers.items()}.get("retry-after")
    try:
        return min(max(float(value), 1.0), 3600.0) if value is not None else None
    except ValueError:
        return None


def send_text(to: str, body: str, client: Client | None = None) -> str:
    """Send one SMS; return Twilio's message SID. Twilio's refusals and a lost connection become TransportError."""
    if not settings.TWILIO_CONFIGURED:
        raise TransportError(NOT_CONFIGURED, permanent=True)
    client = client or twilio_client()
    sender = ({"messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
              if settings.TWILIO_MESSAGING_SERVICE_SID else {"from_": settings.TWILIO_FROM_NUMBER})
    try:
        message = client.messages.create(to=to, body=body, **sender)
    except TwilioRestException as error:
        raise _transport_error(error, client) from None
    except requests.RequestException as error:
        if _never_reached_twilio(error):
            raise TransportError(f"Twilio could not be reached: {error}", permanent=False, channel_down=True) from None
        raise TransportError(
            f"Twilio did not answer ({type(error).__name__}): the SMS may have been sent, so it is not sent again "
            "automatically; check the message log in the Twilio console before retrying", permanent=True,
        ) from None
    except TwilioException as error:  # e.g. an answer that is not JSON: nothing says it was sent
        raise TransportError(f"Twilio answered with something unexpected: {error}", permanent=False) from None
    return message.sid


def _never_reached_twilio(error: requests.RequestException) -> bool:
    """The connection was never made (refused, no route, no DNS answer, connect timeout): nothing was sent. Any other
    failure (reset or timed out after the request went) leaves the outcome unknown."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    reason = error.args[0] if error.args else None
    reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the connection error
    return isinstance(reason, NewConnectionError | ConnectTimeoutError)


def _transport_error(error: TwilioRestException, client: Client) -> TransportError:
    status, code = error.status, error.code
    text = PHONE_NUMBER.sub("[number hidden]", (error.msg or "").strip())  # "Invalid 'To' Phone Number: +44…"
    described = f"Twilio refused the SMS ({status}{f', error {code}' if code else ''}): {text}"
    if status == 429:
        return TransportError(f"Twilio rate limit reached (429{f', error {code}' if code else ''})", permanent=False,
                              retry_after=_retry_after(client), refusal=Refusal.RATE_LIMIT)
    if status >= 500:
        return TransportError(f"Twilio server error ({status})", permanent=False, retry_after=_retry_after(client),
                              channel_down=True)
    if code == UNSUBSCRIBED_RECIPIENT:
        return RecipientOptedOut("The number replied STOP (Twilio error 21610): it is opted out until it replies START")
    if code in INVALID_NUMBERS:
        return TransportError(f"The number {INVALID_NUMBERS[code]} (Twilio error {code})", permanent=True)
    if status == 401 or code == AUTHENTICATION_FAILED:
        return TransportError("Twilio refused the credentials (401): check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN",
                              permanent=True, refusal=Refusal.TOKEN)
    return TransportError(described, permanent=True)


def subscriber_recipients(incident):
    """Confirmed SMS subscribers who have not replied STOP: all of them when they chose no component, otherwise
    those who chose one of the incident's components."""
    component_ids = list(incident.components.values_list("pk", flat=True))
    subscribers = (
        SmsSubscriber.objects.filter(confirmed_at__isnull=False, opted_out_at__isnull=True)
        .filter(Q(components__isnull=True) | Q(components__in=component_ids))
        .distinct()
        .order_by("pk")
    )
    for phone in subscribers.values_list("phone", flat=True).iterator(2000):
        yield Recipient(address=phone)


@register
class SmsTransport(Transport):
    kind = "sms"
    label = "SMS"
    audiences = frozenset({Audience.PUBLIC})  # a text message is as public as the status page: never internal ones

    def __init__(self):
        self.client = None
        self._rendered = {}

    def is_configured(self) -> bool:
        return settings.TWILIO_CONFIGURED

    def not_configured_reason(self) -> str:
        return "" if self.is_configured() else NOT_CONFIGURED

    def recipients(self, message):
        if message.audience != Audience.PUBLIC:
            return
        yield from subscriber_recipients(message.incident)

    def send(self, delivery) -> str:
        message = delivery.message
        if delivery.notice_id is None and (message is None or message.audience != Audience.PUBLIC):
            raise TransportError("SMS carries public status updates and maintenance notices only", permanent=True)
        subscriber = SmsSubscriber.objects.filter(phone=delivery.recipient).first()
        if subscriber is None or not subscriber.receives_updates:
            raise DeliverySkipped("The number unsubscribed (or replied STOP) after the update was fanned out")
        key = ("notice", delivery.notice_id) if delivery.notice_id else ("message", delivery.message_id)
        if key not in self._rendered:
            self._rendered[key] = render_notice_sms(delivery.notice) if delivery.notice_id else render_sms(message)
        if self.client is None:
            self.client = twilio_client()
        try:
            return send_text(delivery.recipient, self._rendered[key], self.client)
        except RecipientOptedOut:
            SmsSubscriber.objects.filter(pk=subscriber.pk, opted_out_at__isnull=True).update(
                opted_out_at=timezone.now())
            raise
