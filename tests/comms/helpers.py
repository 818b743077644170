"""Builders for message and delivery tests."""

from django.utils import timezone

from comms import messaging
from comms.choices import MessageState
from comms.models import Message, Subscriber
from tests.factories import IncidentFactory


def confirmed_subscribers(count: int, prefix: str = "reader", components=()):
    now = timezone.now()
    subscribers = Subscriber.objects.bulk_create(
        [Subscriber(email=f"{prefix}{n}@example.com", confirmed_at=now) for n in range(count)]
    )
    for subscriber in subscribers:
        if components:
            subscriber.components.set(components)
    return subscribers


def scheduled_message(author, *, incident=None, channels=("email", "statuspage"), **fields) -> Message:
    """An approved message due now, as publishing leaves it."""
    incident = incident or IncidentFactory(title="Checkout errors")
    message = messaging.create_message(
        incident=incident,
        author=author,
        headline=fields.pop("headline", "Checkout is failing for some customers"),
        explain=fields.pop("explain", "Payments fail at checkout; we are working on it."),
        acknowledge=fields.pop("acknowledge", "We are sorry for the disruption."),
        channels=list(channels),
        **fields,
    )
    Message.objects.filter(pk=message.pk).update(
        state=MessageState.SCHEDULED, scheduled_for=timezone.now(), approver=author
    )
    message.refresh_from_db()
    return message


def open_public_incident(lead, **fields):
    """An incident opened as a lead would, then shown on the status page (a new incident starts internal)."""
    from incidents import services

    return services.show_on_status_page(services.create_incident(actor=lead, **fields), actor=lead)
