"""The interface every channel implements, and the registry that maps a channel kind to its class.

Channels know nothing about Celery or retries: they send one delivery and either return its external id
or raise TransportError, saying whether trying again could help.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from comms.choices import Audience


class TransportError(Exception):
    def __init__(self, message: str, *, permanent: bool, retry_after: float | None = None, channel_down=False):
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after  # seconds the far side asked us to wait, if it said
        self.channel_down = channel_down  # the channel itself failed: the rest of the batch should wait too


class DeliverySkipped(Exception):
    """The delivery must not be sent any more (e.g. the subscriber unsubscribed); not a failure."""


@dataclass(frozen=True)
class Recipient:
    address: str
    subscriber_id: int | None = None
    endpoint_id: int | None = None


class Transport:
    kind: str = ""
    label: str = ""
    audiences: frozenset[str] = frozenset(Audience.values)

    def is_configured(self) -> bool:
        return True

    def not_configured_reason(self) -> str:
        return ""

    def recipients(self, message) -> Iterable[Recipient]:
        raise NotImplementedError

    @contextmanager
    def session(self) -> Iterator["Transport"]:
        """Open whatever connection a batch can share (one SMTP connection, one HTTP session)."""
        yield self

    def send(self, delivery) -> str:
        """Send one delivery; return its external id. Raise TransportError on failure."""
        raise NotImplementedError


REGISTRY: dict[str, type[Transport]] = {}


def register(cls: type[Transport]) -> type[Transport]:
    REGISTRY[cls.kind] = cls
    return cls


def get_transport(kind: str) -> Transport:
    return REGISTRY[kind]()


def channel_choices() -> list[tuple[str, str]]:
    return [(kind, cls.label) for kind, cls in REGISTRY.items()]


def previous_post(delivery):
    """The latest post this channel made for the same incident (a sent delivery with an external id), for a
    follow-up to reply to so that followers read one thread; None for the incident's first post."""
    from comms.choices import DeliveryStatus
    from comms.models import Delivery

    if delivery.message_id is None:
        return None
    return (
        Delivery.objects.filter(channel=delivery.channel, status=DeliveryStatus.SENT,
                                message__incident_id=delivery.message.incident_id)
        .exclude(pk=delivery.pk).exclude(external_id="")
        .order_by("-sent_at", "-pk").first()
    )
