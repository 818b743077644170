"""The interface every channel implements, and the registry that maps a channel kind to its class.

Channels know nothing about Celery or retries: they send one delivery and either return its external id
or raise TransportError, saying whether trying again could help.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum

from comms.choices import Audience


class Refusal(StrEnum):
    """Why the far side said no, where a caller must tell the reasons apart (a poll stops for these, and passes
    over a single post or thread that fails otherwise)."""

    RATE_LIMIT = "rate limit"
    TOKEN = "token"  # the credentials themselves were refused
    PERMISSION = "permission"  # the credentials lack a permission


class TransportError(Exception):
    def __init__(self, message: str, *, permanent: bool, retry_after: float | None = None, channel_down=False,
                 refusal: Refusal | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after  # seconds the far side asked us to wait, if it said
        self.channel_down = channel_down  # the channel itself failed: the rest of the batch should wait too
        self.refusal = refusal


class DeliveryDeferred(TransportError):
    """Not this delivery's turn yet (an earlier post of the same thread has still to go out): it goes back to the
    queue untried, its attempt not counted, to be tried again in about `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message, permanent=False, retry_after=retry_after)


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

    batch_size: int = 20  # deliveries per worker task (email: EMAIL_BATCH_SIZE)

    def prepare(self, deliveries) -> None:
        """Called in the session with the batch about to be sent: load what its rows need in one query, not one
        per send. Nothing by default."""

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


def wait_for_earlier_post(delivery) -> None:
    """Raise DeliveryDeferred while an earlier message of the same incident (dispatched before it) still has its
    post on this channel queued or being sent: after an outage the retries would otherwise go out in whatever order
    their backoff fell, each replying to whichever post happened to be the latest."""
    from django.db.models import Min, Q
    from django.utils import timezone

    from comms.choices import DeliveryStatus
    from comms.models import Delivery

    message = delivery.message if delivery.message_id else None
    if message is None or message.dispatched_at is None:
        return
    dispatched, due = message.dispatched_at, message.scheduled_for
    earlier = (  # the order dispatch_due_messages took them in
        Q(message__dispatched_at__lt=dispatched)
        | Q(message__dispatched_at=dispatched, message__scheduled_for__lt=due)
        | Q(message__dispatched_at=dispatched, message__scheduled_for=due, message_id__lt=message.pk)
    )
    pending = (
        Delivery.objects.filter(earlier, channel=delivery.channel, message__incident_id=message.incident_id,
                                status__in=(DeliveryStatus.QUEUED, DeliveryStatus.SENDING), in_reply_to="")
        .exclude(pk=delivery.pk)
    )
    if not pending.exists():
        return
    next_try = pending.filter(status=DeliveryStatus.QUEUED).aggregate(at=Min("next_attempt_at"))["at"]
    wait = max((next_try - timezone.now()).total_seconds(), 0.0) if next_try else None
    raise DeliveryDeferred("Waiting for the incident's earlier update to be posted first", retry_after=wait)
