"""A scheduled message goes out through a real worker and beat on Redis, into a local SMTP sink."""

import pytest
from django.utils import timezone

from comms import messaging
from comms.choices import DeliveryStatus, MessageState
from comms.models import Delivery, Message, Subscriber
from tests.comms.helpers import confirmed_subscribers
from tests.factories import IncidentFactory, UserFactory
from tests.integration.conftest import wait_until

pytestmark = pytest.mark.integration


def test_an_approved_message_scheduled_ahead_is_delivered_once_to_each_confirmed_subscriber(
    start_worker, client, smtp_sink
):
    author = UserFactory(username="author", role="Communications lead")
    approver = UserFactory(username="approver", role="Communications lead")
    incident = IncidentFactory(title="Checkout errors", severity="SEV1")
    confirmed_subscribers(25)
    Subscriber.objects.create(email="not-confirmed@example.com")
    message = messaging.create_message(
        incident=incident, author=author, headline="Card payments are failing",
        explain="Some card payments fail at checkout. We are working on it.", acknowledge="We are sorry.",
        channels=["email", "statuspage"], scheduled_for=timezone.now() + timezone.timedelta(seconds=4),
    )
    messaging.submit(message, actor=author)
    assert messaging.approve(message, actor=approver).state == MessageState.SCHEDULED

    # The worker runs beat too: its dispatcher (every 3 s) finds the message once it is due.
    queue = f"delivery-{message.pk}-{timezone.now():%H%M%S%f}"
    start_worker(queue=queue, beat=True, env={"EMAIL_HOST": smtp_sink.host, "EMAIL_PORT": str(smtp_sink.port),
                                              "EMAIL_USE_TLS": "false", "CELERY_QUEUE": queue})
    done = wait_until(lambda: Message.objects.get(pk=message.pk).state == MessageState.SENT, timeout=60)
    received = dict(smtp_sink.received)

    assert done, f"message ended {Message.objects.get(pk=message.pk).state}; deliveries: " + str(
        list(Delivery.objects.values_list("recipient", "status", "last_error")))
    # Each subscriber once; and the other lead was told once that the message waited for their approval.
    assert received == {**{f"reader{n}@example.com": 1 for n in range(25)}, "approver@example.com": 1}
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    message.refresh_from_db()
    assert message.dispatched_at >= message.scheduled_for

    page = client.get("/status/").content.decode()
    feed = client.get("/status/feed.atom").content.decode()
    summary = client.get("/api/v2/summary.json").json()
    assert "Card payments are failing" in page
    assert "Card payments are failing" in feed
    updates = [u["body"] for i in summary["incidents"] for u in i["incident_updates"]]
    assert any("Some card payments fail at checkout" in body for body in updates)
    incident.refresh_from_db()
    assert incident.acknowledged_at is not None
