"""Channels register themselves on import; import this package to get the full registry."""

from comms.channels import email, statuspage, webhook, x  # noqa: F401
from comms.channels.base import (
    REGISTRY,
    DeliverySkipped,
    Recipient,
    Transport,
    TransportError,
    channel_choices,
    get_transport,
)

__all__ = [
    "REGISTRY", "DeliverySkipped", "Recipient", "Transport", "TransportError", "channel_choices", "get_transport",
]
