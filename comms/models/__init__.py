from comms.models.alerts import Alert, AlertComponentMapping, AlertSeverityMapping, AlertSource
from comms.models.delivery import Delivery, DeliverySummary, Subscriber, WebhookEndpoint
from comms.models.endpoints import SubscriberEndpoint
from comms.models.maintenance import MaintenanceNotice, MaintenanceNoticeKind
from comms.models.messages import EARS_PARTS, Message, MessageTemplate
from comms.models.sms import SmsSubscriber

__all__ = [
    "EARS_PARTS", "Alert", "AlertComponentMapping", "AlertSeverityMapping", "AlertSource", "Delivery",
    "DeliverySummary", "MaintenanceNotice", "MaintenanceNoticeKind", "Message", "MessageTemplate", "Subscriber",
    "WebhookEndpoint", "SubscriberEndpoint", "SmsSubscriber",
]
