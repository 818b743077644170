"""Delivery: one row per recipient before any network call, claimed before sending, each sent exactly once."""

from email import message_from_bytes, policy
from unittest import mock

import pytest
from celery.exceptions import Retry, SoftTimeLimitExceeded
from django.utils import timezone

from comms import delivery, messaging
from comms.channels.email import EmailTransport
from comms.choices import DeliveryStatus, MessageState
from comms.models import Delivery, Message, Subscriber
from comms.subscriptions import unsubscribe
from tests.comms.helpers import confirmed_subscribers, scheduled_message
from tests.factories import ComponentFactory, IncidentFactory

pytestmark = pytest.mark.django_db


def dispatch(message) -> list[int]:
    """Dispatch and return the message's delivery ids (enqueueing is exercised by the integration tests)."""
    assert delivery.dispatch_due_messages() == [message.pk]
    return list(Delivery.objects.filter(message=message).values_list("pk", flat=True))


def make_due(ids):
    Delivery.objects.filter(pk__in=ids).update(next_attempt_at=timezone.now())


def test_dispatch_creates_one_delivery_per_confirmed_subscriber_and_the_status_page(lead):
    confirmed_subscribers(3)
    Subscriber.objects.create(email="unconfirmed@example.com")
    message = scheduled_message(lead)

    dispatch(message)

    message.refresh_from_db()
    assert message.state == MessageState.SENDING
    rows = set(Delivery.objects.values_list("channel", "recipient", "status"))
    assert rows == {
        ("email", "reader0@example.com", "queued"),
        ("email", "reader1@example.com", "queued"),
        ("email", "reader2@example.com", "queued"),
        ("statuspage", "status-page", "queued"),
    }
    assert "Sending “Checkout is failing for some customers”: 3 on email, 1 on statuspage" in (
        message.incident.timeline.last().description
    )


def test_subscribers_of_other_components_are_left_out(lead):
    payments, search = ComponentFactory(name="Payments"), ComponentFactory(name="Search")
    incident = IncidentFactory()
    incident.components.set([payments])
    confirmed_subscribers(1, "all")
    confirmed_subscribers(1, "payments", components=[payments])
    confirmed_subscribers(1, "search", components=[search])

    dispatch(scheduled_message(lead, incident=incident, channels=["email"]))

    assert set(Delivery.objects.values_list("recipient", flat=True)) == {"all0@example.com", "payments0@example.com"}


def test_a_message_is_dispatched_once_even_when_two_dispatchers_run(lead):
    message = scheduled_message(lead, channels=["statuspage"])
    assert delivery.dispatch_due_messages() == [message.pk]
    assert delivery.dispatch_due_messages() == []
    assert Delivery.objects.count() == 1


def test_a_message_scheduled_for_later_waits(lead):
    message = scheduled_message(lead, channels=["statuspage"])
    Message.objects.filter(pk=message.pk).update(scheduled_for=timezone.now() + timezone.timedelta(minutes=5))
    assert delivery.dispatch_due_messages() == []


def test_a_batch_is_sent_over_one_smtp_connection_and_each_row_recorded(smtp_sink, lead):
    confirmed_subscribers(5)
    message = scheduled_message(lead)
    ids = dispatch(message)

    outcome = delivery.send_deliveries(ids)

    assert (outcome.sent, outcome.failed, outcome.retry_ids) == (6, 0, [])
    assert smtp_sink.sessions == 1
    assert smtp_sink.total == 5 and smtp_sink.duplicates == 0
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    assert all(Delivery.objects.filter(channel="email").values_list("external_id", flat=True))
    message.refresh_from_db()
    assert message.state == MessageState.SENT
    assert message.published_at is not None
    assert message.incident.timeline.last().description.endswith("sent: 6 delivered, 0 failed")


def test_running_the_send_task_twice_for_the_same_batch_sends_once(smtp_sink, lead):
    confirmed_subscribers(4)
    ids = dispatch(scheduled_message(lead, channels=["email"]))
    delivery.send_deliveries(ids)
    second = delivery.send_deliveries(ids)
    assert second.sent == 0
    assert smtp_sink.total == 4 and smtp_sink.duplicates == 0


def test_a_batch_interrupted_part_way_is_completed_by_the_next_run_without_duplicates(smtp_sink, lead):
    confirmed_subscribers(6)
    message = scheduled_message(lead, channels=["email"])
    ids = dispatch(message)
    delivery.send_deliveries(ids[:2])  # the first two went out before the worker died …
    stale = timezone.now() - timezone.timedelta(seconds=delivery.sweep.STALE_CLAIM_SECONDS + 5)
    # … and two were mid-claim
    Delivery.objects.filter(pk__in=ids[2:4]).update(status=DeliveryStatus.SENDING, claimed_at=stale, attempts=1)

    recovered = delivery.sweep_deliveries()  # beat's periodic rescue (enqueueing is a no-op here: no broker)
    delivery.send_deliveries(ids)  # the redelivered task

    assert recovered["recovered"] == 2
    assert smtp_sink.total == 6 and smtp_sink.duplicates == 0
    message.refresh_from_db()
    assert message.state == MessageState.SENT


def test_an_smtp_4xx_is_retried_later_and_then_delivered_once(smtp_sink, lead):
    confirmed_subscribers(3)
    message = scheduled_message(lead, channels=["email"])
    ids = dispatch(message)
    smtp_sink.data_replies = ["451 4.3.0 Mailbox busy, try later"]  # only the first DATA is refused

    first = delivery.send_deliveries(ids)

    assert (first.sent, first.failed, len(first.retry_ids)) == (2, 0, 1)
    waiting = Delivery.objects.get(pk=first.retry_ids[0])
    assert (waiting.status, waiting.attempts) == (DeliveryStatus.QUEUED, 1)
    assert waiting.last_error == "SMTP 451: 4.3.0 Mailbox busy, try later"
    assert waiting.next_attempt_at > timezone.now()
    assert delivery.send_deliveries(ids).sent == 0  # not due yet: nothing is sent early

    make_due(first.retry_ids)
    assert delivery.send_deliveries(ids).sent == 1
    assert smtp_sink.total == 3 and smtp_sink.duplicates == 0
    message.refresh_from_db()
    assert message.state == MessageState.SENT


def test_an_smtp_5xx_recipient_fails_permanently_and_the_rest_are_sent(smtp_sink, lead):
    confirmed_subscribers(3)
    smtp_sink.refuse_recipients["reader1@example.com"] = "550 5.1.1 No such user"
    message = scheduled_message(lead, channels=["email"])
    ids = dispatch(message)

    outcome = delivery.send_deliveries(ids)

    assert (outcome.sent, outcome.failed, outcome.retry_ids) == (2, 1, [])
    failed = Delivery.objects.get(recipient="reader1@example.com")
    assert (failed.status, failed.attempts, failed.last_error) == (
        DeliveryStatus.FAILED,
        1,
        "SMTP 550: 5.1.1 No such user",
    )
    message.refresh_from_db()
    assert message.state == MessageState.PARTIALLY_FAILED
    make_due([failed.pk])
    assert delivery.send_deliveries(ids).sent == 0  # a permanent failure is not retried


def test_a_delivery_that_keeps_failing_gives_up_after_the_maximum_attempts(smtp_sink, lead, settings):
    settings.DELIVERY_MAX_ATTEMPTS = 3
    confirmed_subscribers(1)
    ids = dispatch(scheduled_message(lead, channels=["email"]))
    smtp_sink.data_replies = ["421 4.7.0 Try again later"] * 3
    for _ in range(3):
        make_due(ids)
        delivery.send_deliveries(ids)
    row = Delivery.objects.get()
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 3)
    assert row.last_error.startswith("Gave up after 3 attempts: SMTP 421")
    assert smtp_sink.total == 0


def test_when_the_smtp_server_is_down_the_batch_waits_without_using_up_attempts(lead, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens
    confirmed_subscribers(4)
    ids = dispatch(scheduled_message(lead, channels=["email"]))

    outcome = delivery.send_deliveries(ids)

    assert (outcome.sent, outcome.failed, len(outcome.retry_ids)) == (0, 0, 4)
    assert sorted(Delivery.objects.values_list("attempts", flat=True)) == [0, 0, 0, 1]
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.QUEUED}


def test_a_retry_waits_for_the_last_due_row_and_leaves_long_waits_to_the_sweeper():
    from comms.tasks import send_deliveries

    outcome = delivery.BatchOutcome(retry_in_seconds={1: 5.0, 2: 40.0, 3: 900.0})
    with mock.patch.object(delivery, "send_deliveries", return_value=outcome), \
            mock.patch.object(delivery, "mark_enqueued") as enqueued, \
            mock.patch.object(send_deliveries, "retry", side_effect=Retry) as retry:
        with pytest.raises(Retry):
            send_deliveries.run([1, 2, 3])
    enqueued.assert_called_once_with([1, 2])
    retry.assert_called_once_with(args=[[1, 2]], countdown=40.0)


def test_running_out_of_time_puts_the_rest_of_the_batch_back(lead, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    confirmed_subscribers(3)
    scheduled_message(lead, channels=["email"])
    delivery.dispatch_due_messages()
    ids = list(Delivery.objects.values_list("pk", flat=True))
    calls = []

    def send(self, row):
        calls.append(row.pk)
        if len(calls) == 2:
            raise SoftTimeLimitExceeded()
        return "ok"

    with mock.patch.object(EmailTransport, "send", send), pytest.raises(SoftTimeLimitExceeded):
        delivery.send_deliveries(ids)
    statuses = dict(Delivery.objects.values_list("pk", "status"))
    assert statuses[ids[0]] == DeliveryStatus.SENT
    assert {statuses[ids[1]], statuses[ids[2]]} == {DeliveryStatus.QUEUED}
    assert Delivery.objects.get(pk=ids[1]).attempts == 0  # the interrupted one was not really tried


def test_each_email_has_text_html_and_a_personal_unsubscribe_link(smtp_sink, lead):
    (subscriber,) = confirmed_subscribers(1)
    ids = dispatch(scheduled_message(lead, channels=["email"], headline="<b>Checkout</b> & payments"))
    delivery.send_deliveries(ids)

    ((recipients, email),) = smtp_sink.messages
    unsubscribe = f"http://127.0.0.1:8000/status/unsubscribe/{subscriber.unsubscribe_token}/"
    assert email["List-Unsubscribe"].strip() == f"<{unsubscribe}>"
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = (part.get_payload(decode=True).decode() for part in email.get_payload())
    assert unsubscribe in text and unsubscribe in html
    assert "<b>Checkout</b> & payments" in text
    assert "&lt;b&gt;Checkout&lt;/b&gt; &amp; payments" in html and "<b>Checkout</b>" not in html


def test_backoff_grows_exponentially_with_jitter_and_honours_the_far_sides_wait():
    for attempts in range(1, 8):
        ceiling = min(delivery.send.RETRY_MAX_SECONDS, delivery.send.RETRY_BASE_SECONDS * 2 ** (attempts - 1))
        delays = {delivery.backoff_seconds(attempts) for _ in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered
    assert delivery.backoff_seconds(1, retry_after=300) >= 300


def test_a_lead_retries_failed_deliveries(smtp_sink, lead):
    confirmed_subscribers(2)
    smtp_sink.refuse_recipients["reader0@example.com"] = "550 5.1.1 No such user"
    message = scheduled_message(lead, channels=["email"])
    ids = dispatch(message)
    delivery.send_deliveries(ids)
    del smtp_sink.refuse_recipients["reader0@example.com"]

    assert messaging.retry_failed(message, lead) == 1
    delivery.send_deliveries(ids)

    message.refresh_from_db()
    assert message.state == MessageState.SENT
    assert smtp_sink.received["reader0@example.com"] == 1 and smtp_sink.total == 2


def test_a_subscriber_who_unsubscribed_before_sending_is_skipped_not_mailed(lead, mailoutbox):
    (subscriber,) = confirmed_subscribers(1)
    message = scheduled_message(lead, channels=["email"])
    delivery.dispatch_due_messages()
    unsubscribe(subscriber.unsubscribe_token)

    outcome = delivery.send_deliveries(list(Delivery.objects.values_list("pk", flat=True)))

    assert (outcome.sent, outcome.skipped) == (0, 1)
    assert mailoutbox == []
    assert Delivery.objects.get().status == DeliveryStatus.SKIPPED
    message.refresh_from_db()
    assert message.state == MessageState.SENT  # nothing failed


def test_subscribers_are_unaffected_by_the_skip_rule_when_still_subscribed(lead, mailoutbox):
    confirmed_subscribers(1)
    scheduled_message(lead, channels=["email"])
    delivery.dispatch_due_messages()
    assert delivery.send_deliveries(list(Delivery.objects.values_list("pk", flat=True))).sent == 1
    assert Subscriber.objects.count() == 1 and len(mailoutbox) == 1


def test_the_embedded_default_writes_each_email_to_a_file(lead, settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path
    confirmed_subscribers(3)
    message = scheduled_message(lead, channels=["email"])

    outcome = delivery.send_deliveries(dispatch(message))

    assert outcome.sent == 3
    written = "".join(path.read_text() for path in tmp_path.iterdir()).replace("\n ", " ")  # unfold headers
    assert written.count("Subject: [Investigating] Checkout errors: Checkout is failing for some customers") == 3
    assert all(f"To: reader{n}@example.com" in written for n in range(3))


def test_the_bytes_sent_over_smtp_match_what_django_would_build(smtp_sink, lead):
    """The per-batch template with marks must give the same email as building it whole."""
    from comms.channels.email import EmailTransport

    (subscriber,) = confirmed_subscribers(1)
    ids = dispatch(scheduled_message(lead, channels=["email"], headline="Café ☕ – payments"))
    row = Delivery.objects.select_related("message__incident", "subscriber").get(pk=ids[0])
    transport = EmailTransport()
    fast = message_from_bytes(transport.raw(row), policy=policy.default)
    whole = message_from_bytes(transport.build(row).message().as_bytes(linesep="\r\n"), policy=policy.default)

    for header in ("Subject", "From", "To", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post"):
        assert fast[header].strip() == whole[header].strip(), header
    assert fast["Subject"].strip() == "[Investigating] Checkout errors: Café ☕ – payments"
    for kind in ("plain", "html"):
        assert fast.get_body((kind,)).get_content() == whole.get_body((kind,)).get_content()
    assert subscriber.unsubscribe_token in fast.get_body(("plain",)).get_content()


def test_the_subject_is_plain_text_not_html_escaped(smtp_sink, lead):
    confirmed_subscribers(1)
    delivery.send_deliveries(dispatch(scheduled_message(lead, channels=["email"], headline="Payments & <checkout>")))
    ((_, email),) = smtp_sink.messages
    assert email["Subject"].strip() == "[Investigating] Checkout errors: Payments & <checkout>"


def test_the_confirmation_subject_is_plain_text(settings, mailoutbox):
    from comms.subscriptions import send_confirmation

    settings.STATUS_PAGE_NAME = "AT&T"
    send_confirmation(Subscriber.objects.create(email="new@example.com").pk)
    assert mailoutbox[0].subject == "Confirm your subscription to AT&T status updates"
