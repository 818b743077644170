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

        Message.objects.filter(pk=delivery.message_id, published_at__isnull=True).update(published_at=timezone.now())
        invalidate_status_page()
        return f"status-page:{delivery.message_id}"
