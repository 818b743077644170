"""Fan-out writes its rows with one raw INSERT per chunk on PostgreSQL: it must name every column the table requires,
and the rows must be what Django's own create would have made."""

import pytest
from django.db import connection

from comms.channels.base import Recipient
from comms.choices import DeliveryStatus
from comms.delivery.dispatch import DELIVERY_ARRAYS, delivery_constants, insert_deliveries
from comms.models import Delivery
from tests.comms.helpers import scheduled_message

pytestmark = pytest.mark.django_db


def test_the_raw_insert_names_every_required_column_of_a_delivery():
    required = {field.attname for field in Delivery._meta.concrete_fields if not field.null and not field.primary_key}

    assert required - {*DELIVERY_ARRAYS, *delivery_constants("email", message_id=1)} == set()


def test_inserted_rows_are_queued_with_a_unique_code_each_and_a_repeat_is_skipped(lead):
    message = scheduled_message(lead, channels=["email"])
    recipients = [Recipient(address=f"r{n}@example.com") for n in range(3)]

    insert_deliveries("email", recipients, message_id=message.pk)
    insert_deliveries("email", [*recipients[:1], Recipient(address="new@example.com")], message_id=message.pk)

    rows = Delivery.objects.filter(message=message).order_by("recipient")
    assert [row.recipient for row in rows] == ["new@example.com", "r0@example.com", "r1@example.com", "r2@example.com"]
    assert {(row.status, row.attempts, row.channel, row.last_error, row.in_reply_to) for row in rows} == {
        (DeliveryStatus.QUEUED, 0, "email", "", "")}
    assert len({row.code for row in rows}) == 4 and all(len(row.code) >= 32 for row in rows)
    assert all(row.created_at is not None and row.enqueued_at is None for row in rows)


def test_inserted_rows_keep_the_subscriber_and_endpoint_they_were_made_for(lead):
    from comms.models import Subscriber, WebhookEndpoint

    message = scheduled_message(lead, channels=["email", "webhook"])
    subscriber = Subscriber.objects.create(email="one@example.com")
    endpoint = WebhookEndpoint.objects.create(name="Ops", url="https://hooks.example.test/ears", secret="s")

    insert_deliveries("email", [Recipient(address="one@example.com", subscriber_id=subscriber.pk)],
                      message_id=message.pk)
    insert_deliveries("webhook", [Recipient(address="Ops", endpoint_id=endpoint.pk)], message_id=message.pk)

    email, hook = Delivery.objects.filter(message=message).order_by("channel")
    assert (email.subscriber_id, email.endpoint_id) == (subscriber.pk, None)
    assert (hook.subscriber_id, hook.endpoint_id) == (None, endpoint.pk)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the raw INSERT is PostgreSQL's path")
def test_the_postgresql_path_is_the_one_taken_there(lead, django_assert_max_num_queries):
    message = scheduled_message(lead, channels=["email"])
    with django_assert_max_num_queries(0):  # the bound cursor's statement is not Django's: no ORM query at all
        insert_deliveries("email", [Recipient(address=f"r{n}@example.com") for n in range(50)],
                          message_id=message.pk)
    assert Delivery.objects.filter(message=message).count() == 50


def test_a_maintenance_notices_rows_are_written_the_same_way_with_no_message_and_a_repeat_is_skipped(lead):
    from django.utils import timezone

    from comms.models import MaintenanceNotice
    from incidents.models import Maintenance

    maintenance = Maintenance.objects.create(title="Database upgrade", author=lead, scheduled_for=timezone.now(),
                                             scheduled_until=timezone.now() + timezone.timedelta(hours=1))
    notice = MaintenanceNotice.objects.create(maintenance=maintenance, key="scheduled", kind="scheduled",
                                              first_line="Database upgrade scheduled")

    insert_deliveries("email", [Recipient(address="a@example.com"), Recipient(address="b@example.com")],
                      notice_id=notice.pk)
    insert_deliveries("email", [Recipient(address="a@example.com")], notice_id=notice.pk)

    rows = Delivery.objects.filter(notice=notice).order_by("recipient")
    assert [(row.recipient, row.message_id, row.status) for row in rows] == [
        ("a@example.com", None, DeliveryStatus.QUEUED), ("b@example.com", None, DeliveryStatus.QUEUED)]
