"""What the social channels' tests (test_facebook, test_linkedin, test_mastodon, test_bluesky) share: the status page
link each post ends with, sending what is due on one channel, and the checks every such channel passes the same
way. Each test file keeps its own fake and settings (they differ by network) and its own assertions on what
crossed the fake."""

from django.utils import timezone

from comms import delivery
from comms.channels import get_transport
from comms.choices import DeliveryStatus
from comms.models import Delivery
from tests.comms.helpers import scheduled_message

STATUS_PAGE = "http://127.0.0.1:8000/status/"


def send_due(channel: str, message=None) -> delivery.BatchOutcome:
    """Dispatch the messages that are due, then send the channel's rows once (only the message's, when given)."""
    delivery.dispatch_due_messages()
    rows = Delivery.objects.filter(channel=channel)
    if message is not None:
        rows = rows.filter(message=message)
    return delivery.send_deliveries(list(rows.values_list("pk", flat=True)))


def make_due() -> None:
    """Every row's retry time has come."""
    Delivery.objects.update(next_attempt_at=timezone.now())


def assert_two_failures_then_one_post(channel: str, first_error: str) -> None:
    """With the fake failing the next two posts: the first send is held for a retry with first_error, the second
    fails again, the third posts, and a fourth finds nothing left to send."""
    first = send_due(channel)
    assert first.retry_ids and Delivery.objects.get().last_error == first_error
    make_due()
    assert send_due(channel).sent == 0
    make_due()
    assert send_due(channel).sent == 1
    make_due()
    assert send_due(channel).sent == 0  # nothing left to send


def assert_unconfigured_channel_fails_its_row(channel: str, author, reason: str) -> None:
    """The channel (its *_CONFIGURED setting off) says why it is not configured, and a row for it fails with that
    reason instead of being sent."""
    transport = get_transport(channel)
    assert not transport.is_configured()
    assert transport.not_configured_reason() == reason
    message = scheduled_message(author, channels=["email"])
    Delivery.objects.create(message=message, channel=channel, recipient=channel)

    delivery.send_deliveries(list(Delivery.objects.filter(channel=channel).values_list("pk", flat=True)))

    row = Delivery.objects.get(channel=channel)
    assert row.status == DeliveryStatus.FAILED and row.last_error.startswith(reason.split(":")[0])


def assert_refused_by_the_outbound_guard(fake, channel: str, author, error_start: str) -> None:
    """With OUTBOUND_ALLOWED_HOSTS emptied by the caller, the fake on 127.0.0.1 is refused: the row fails for good
    with error_start, and nothing reaches the fake."""
    scheduled_message(author, channels=[channel])

    send_due(channel)

    row = Delivery.objects.get()
    assert row.status == DeliveryStatus.FAILED
    assert row.last_error.startswith(error_start)
    assert fake.requests == []
