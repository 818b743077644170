"""Demo templates, subscribers and the worst incident's messages (core.demo)."""

from django.utils import timezone

from comms import messaging
from comms.choices import MessagePhase
from comms.defaults import create_default_templates
from comms.models import MessageTemplate, Subscriber
from incidents.demo import worst_new_incident

DEMO_SUBSCRIBERS = 5


def demo_comms(demo) -> str:
    create_default_templates()
    now = timezone.now()
    for n in range(1, DEMO_SUBSCRIBERS + 1):
        Subscriber.objects.get_or_create(email=f"subscriber{n}@example.com", defaults={"confirmed_at": now})
    incident = worst_new_incident(demo)
    if incident is not None:
        _messages(incident, demo.users)
    return f"{Subscriber.objects.filter(confirmed_at__isnull=False).count()} confirmed subscribers"


def _messages(incident, users) -> None:
    """A published acknowledgement and an update waiting for approval."""
    template = MessageTemplate.objects.filter(name="Initial acknowledgement", pre_approved=True).first()
    if template is not None:
        # Unchanged pre-approved text: support publishes it at once; the worker sends it when it starts.
        ack = messaging.create_message(incident=incident, author=users["support"], template=template)
        messaging.publish(ack, actor=users["support"])
    update = messaging.create_message(
        incident=incident, author=users["support"], phase=MessagePhase.UPDATE,
        headline="Card payments: we found the cause",
        explain="A change to our payment provider connection is failing for EU cards. We are reversing it now.",
        acknowledge="We know you cannot take payments right now, and we are sorry. Next update within 30 minutes.",
        channels=["statuspage", "email"],
    )
    messaging.submit(update, actor=users["support"])
