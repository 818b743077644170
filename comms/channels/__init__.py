"""Channels register themselves on import; import this package to get the full registry."""

# Registration order is the order channels are offered in: the new networks after the first four.
# isort: off
from comms.channels import email, statuspage, webhook, x  # noqa: F401
from comms.channels import mastodon, bluesky  # noqa: F401
from comms.channels import facebook, linkedin  # noqa: F401
from comms.channels import sms  # noqa: F401
from comms.channels import subscriber_hooks  # noqa: F401
# isort: on
from comms.channels.base import (
    REGISTRY,
    DeliveryDeferred,
    DeliverySkipped,
    Recipient,
    Transport,
    TransportError,
    channel_choices,
    get_transport,
)

__all__ = [
    "REGISTRY", "DeliveryDeferred", "DeliverySkipped", "Recipient", "Transport", "TransportError", "channel_choices",
    "get_transport",
]
