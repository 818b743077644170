from comms.models.delivery import Delivery, Subscriber, WebhookEndpoint
from comms.models.messages import EARS_PARTS, Message, MessageTemplate

__all__ = ["EARS_PARTS", "Delivery", "Message", "MessageTemplate", "Subscriber", "WebhookEndpoint"]
