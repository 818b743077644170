from comms.models.delivery import Delivery, Subscriber, WebhookEndpoint
from comms.models.incidents import Component, Incident, TimelineEntry, WorkerHeartbeat
from comms.models.messages import EARS_PARTS, Message, MessageTemplate

__all__ = [
    "EARS_PARTS",
    "Component",
    "Delivery",
    "Incident",
    "Message",
    "MessageTemplate",
    "Subscriber",
    "TimelineEntry",
    "WebhookEndpoint",
    "WorkerHeartbeat",
]
