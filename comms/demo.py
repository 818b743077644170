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
    windows = _maintenance(demo)
    return (f"{Subscriber.objects.filter(confirmed_at__isnull=False).count()} confirmed subscribers, "
            f"{windows} maintenance window{'s' if windows != 1 else ''}")


def _maintenance(demo) -> int:
    """An approved window three days ahead (on the status page, in the calendar) and one waiting for approval."""
    from comms.maintenance import approval
    from incidents.maintenance import create_maintenance
    from incidents.models import Maintenance

    if Maintenance.objects.exists():
        return 0
    lead, admin = demo.users["lead"], demo.users["admin"]
    start = timezone.localtime().replace(hour=2, minute=0, second=0, microsecond=0) + timezone.timedelta(days=3)
    upgrade = create_maintenance(
        author=lead, components=[demo.components["Payments"], demo.components["API"]],
        title="Payments database upgrade", scheduled_for=start, scheduled_until=start + timezone.timedelta(hours=1),
        what="We are upgrading the database behind card payments to a newer version.",
        why="The new version is faster and keeps receiving security fixes.",
        customer_impact="Card payments may be declined for up to 10 minutes during the window; invoices are not "
                        "affected.",
        customer_action="Retry a declined payment after the window, or pay by invoice during it.",
    )
    approval.submit(upgrade, actor=lead)
    approval.approve(upgrade, actor=admin)  # four eyes: someone other than the author
    later = start + timezone.timedelta(days=7)
    draft = create_maintenance(
        author=lead, components=[demo.components["Email delivery"]], title="Email provider switch",
        scheduled_for=later, scheduled_until=later + timezone.timedelta(hours=2),
        what="We are moving transactional email to a new provider.", why="Faster delivery to the largest inboxes.",
        customer_impact="Some emails may arrive a few minutes late.", customer_action="Nothing.",
    )
    approval.submit(draft, actor=lead)
    return 2


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
