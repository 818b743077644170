from django.utils import timezone

from comms.channels.base import Recipient, Transport, register
from comms.choices import Audience

STATUS_PAGE_RECIPIENT = "status-page"


@register
class StatusPageTransport(Transport):
    """Publishes the message as an update on the public status page (and its feeds)."""

    kind = "statuspage"
    label = "Status page"
    audiences = frozenset({Audience.PUBLIC})

    def recipients(self, message):
        yield Recipient(address=STATUS_PAGE_RECIPIENT)

    def send(self, delivery) -> str:
        from comms.models import Message
        from comms.statuspage import invalidate_status_page

        incident = delivery.message.incident
        Message.objects.filter(pk=delivery.message_id, published_at__isnull=True).update(
            published_at=timezone.now(),
            # What Statuspage records with each update: the status then, and the components' statuses then.
            published_status=incident.public_status,
            published_components=[{"id": component.pk, "name": component.name, "status": component.status}
                                  for component in incident.components.all()],
        )
        invalidate_status_page()
        return f"status-page:{delivery.message_id}"
