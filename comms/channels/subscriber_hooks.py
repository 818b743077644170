"""The "subscriber_hooks" channel: approved public messages to the status page's confirmed Slack, Microsoft
Teams, Discord and generic webhook subscribers (comms.endpoints), and notices about maintenance windows of the
components they chose (comms.maintenance.notices), each at most once (the delivery machinery's
claim), each with its one-click unsubscribe link.

A channel of its own (not "webhook", the internal endpoints an administrator configures) so that a message's
author chooses it in the composer as they choose email, and so that it can only ever carry public messages
(audiences). Permanent failures that say the webhook is gone (404, 410, 401, 403, a refused address, a redirect) are
counted per endpoint; SUBSCRIBER_ENDPOINT_MAX_FAILURES in a row disable it, and a success resets the count."""

import json
from contextlib import contextmanager

from django.db.models import Q

from comms.channels.base import DeliverySkipped, Recipient, Transport, register
from comms.choices import Audience
from comms.models import SubscriberEndpoint
from core.outbound import OutboundSession

UNSUBSCRIBE_MARK = "__EARS_ENDPOINT_UNSUBSCRIBE_URL__"


def endpoint_recipients(incident):
    """Confirmed, enabled endpoints subscribed to one of the incident's components (or to everything)."""
    component_ids = list(incident.components.values_list("pk", flat=True))
    endpoints = (
        SubscriberEndpoint.objects.filter(confirmed_at__isnull=False, disabled_at__isnull=True)
        .filter(Q(components__isnull=True) | Q(components__in=component_ids))
        .distinct()
        .order_by("pk")
    )
    for endpoint_id, kind in endpoints.values_list("pk", "kind").iterator(2000):
        yield Recipient(address=f"{kind}-endpoint:{endpoint_id}")


def endpoint_id_of(recipient: str) -> int | None:
    number = recipient.rpartition(":")[2]
    return int(number) if number.isdigit() else None


@register
class SubscriberHooksTransport(Transport):
    kind = "subscriber_hooks"
    label = "Subscribers' Slack, Teams, Discord and webhooks"
    audiences = frozenset({Audience.PUBLIC})
    batch_size = 500  # one post per endpoint, each to its own URL: no shared rate limit to pace

    def __init__(self):
        self.http = None
        self._payloads = {}  # (message id, kind) → the payload as JSON, with a mark for the unsubscribe link
        self._endpoints = {}  # the batch's endpoints by id (prepare), instead of a query per send

    def recipients(self, message):
        if message.audience != Audience.PUBLIC:
            return
        yield from endpoint_recipients(message.incident)

    @contextmanager
    def session(self):
        with OutboundSession() as http:
            self.http = http
            yield self

    def prepare(self, deliveries) -> None:
        self._endpoints = SubscriberEndpoint.objects.in_bulk(
            [number for delivery in deliveries if (number := endpoint_id_of(delivery.recipient)) is not None])

    def _endpoint(self, delivery):
        number = endpoint_id_of(delivery.recipient)
        if number in self._endpoints:
            return self._endpoints[number]
        return SubscriberEndpoint.objects.filter(pk=number).first()  # outside a prepared batch

    def _payload(self, delivery, kind, unsubscribe_url: str) -> tuple[dict, str]:
        """(payload, event), rendered once per message (or maintenance notice) and kind in a batch; the unsubscribe
        link filled in per endpoint."""
        notice = delivery.notice if delivery.notice_id else None
        key = ("notice", delivery.notice_id, kind.kind) if notice else ("message", delivery.message_id, kind.kind)
        if key not in self._payloads:
            payload = (kind.notice_payload(notice, UNSUBSCRIBE_MARK) if notice
                       else kind.message_payload(delivery.message, UNSUBSCRIBE_MARK))
            self._payloads[key] = json.dumps(payload)
        event = f"maintenance.{notice.kind}" if notice else "message.published"
        return json.loads(self._payloads[key].replace(UNSUBSCRIBE_MARK, unsubscribe_url)), event

    def send(self, delivery) -> str:
        from comms.endpoints import subscriptions
        from comms.endpoints.kinds import kind_of
        from comms.endpoints.posting import EndpointError

        message = delivery.message
        if delivery.notice_id is None and (message is None or message.audience != Audience.PUBLIC):
            raise DeliverySkipped("Only public messages and maintenance notices go to subscribers' webhooks.")
        endpoint = self._endpoint(delivery)
        if endpoint is None:
            raise DeliverySkipped("The subscriber unsubscribed.")
        if not endpoint.is_confirmed or endpoint.disabled_at is not None:
            raise DeliverySkipped("The subscriber's webhook is disabled or not confirmed.")
        kind = kind_of(endpoint)
        payload, event = self._payload(delivery, kind, subscriptions.unsubscribe_url(endpoint))
        try:
            external_id = kind.post(self.http or OutboundSession(), endpoint, payload, delivery.code, event)
        except EndpointError as error:
            if error.permanent and error.counts_against_endpoint:
                subscriptions.record_permanent_failure(endpoint.pk, str(error))
            raise
        if endpoint.consecutive_failures:
            subscriptions.record_success(endpoint.pk)
        return external_id
