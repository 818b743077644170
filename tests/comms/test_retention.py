"""Retention: old delivery rows become per-message counts; the message page keeps showing them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from comms import retention
from comms.choices import DeliveryStatus, MessageState
from comms.models import Delivery, DeliverySummary, Message
from comms.views.messages import delivery_counts
from tests.factories import DeliveryFactory, MessageFactory

pytestmark = pytest.mark.django_db


def finished_message(days_ago: float, state=MessageState.SENT, **counts) -> Message:
    """A message finished `days_ago`, with deliveries: counts maps "<channel>_<status>" to how many."""
    message = MessageFactory(state=state)
    Message.objects.filter(pk=message.pk).update(finished_at=timezone.now() - timedelta(days=days_ago))
    for name, count in counts.items():
        channel, status = name.split("_")
        for n in range(count):
            DeliveryFactory(message=message, channel=channel, status=status, recipient=f"{name}{n}@example.com")
    return message


def test_settled_rows_of_old_messages_become_counts_and_the_page_shows_the_same_totals(settings):
    settings.DELIVERY_RETENTION_DAYS = 30
    old = finished_message(31, email_sent=7, email_failed=2, webhook_skipped=1)
    before = delivery_counts(old)
    assert retention.prune_old_deliveries(batch=3) == 10
    assert not Delivery.objects.filter(message=old).exists()
    assert delivery_counts(Message.objects.get(pk=old.pk)) == before
    assert DeliverySummary.objects.get(message=old, channel="email", status="sent").count == 7


def test_recent_and_unfinished_messages_and_unsettled_rows_are_kept(settings):
    settings.DELIVERY_RETENTION_DAYS = 30
    recent = finished_message(29, email_sent=2)
    sending = finished_message(40, state=MessageState.SENDING, email_sent=2)
    old = finished_message(40, email_sent=1, email_queued=1)
    assert retention.prune_old_deliveries() == 1
    assert Delivery.objects.filter(message=recent).count() == 2
    assert Delivery.objects.filter(message=sending).count() == 2
    assert list(Delivery.objects.filter(message=old).values_list("status", flat=True)) == [DeliveryStatus.QUEUED]


def test_replies_to_mentions_are_never_pruned(settings):
    settings.DELIVERY_RETENTION_DAYS = 1
    Delivery.objects.create(in_reply_to="123", channel="x", recipient="reply:123", body="Sorry!", status="sent")
    finished_message(5, email_sent=1)
    retention.prune_old_deliveries()
    assert list(Delivery.objects.values_list("channel", flat=True)) == ["x"]


def test_zero_days_keeps_every_row(settings):
    settings.DELIVERY_RETENTION_DAYS = 0
    finished_message(400, email_sent=3)
    assert retention.prune_old_deliveries() == 0 and Delivery.objects.count() == 3


def test_a_run_stops_at_its_limit_and_the_next_goes_on_without_counting_twice(settings):
    settings.DELIVERY_RETENTION_DAYS = 1
    message = finished_message(2, email_sent=5)
    progress = []
    assert retention.prune_old_deliveries(batch=2, limit=3, on_batch=progress.append) == 3
    assert progress == [2, 1]
    assert retention.prune_old_deliveries(batch=2) == 2
    assert DeliverySummary.objects.get(message=message).count == 5
