"""Regressions for defects a code review found: each test failed before its fix."""

import smtplib
from unittest import mock

import pytest
from celery.exceptions import Retry, SoftTimeLimitExceeded
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from comms import delivery, messaging, overdue
from comms.channels.email import EmailTransport
from comms.choices import DeliveryStatus, MessageState
from comms.models import Delivery, Message, MessageTemplate, Subscriber
from comms.subscriptions import unsubscribe
from incidents import services
from tests.comms.helpers import confirmed_subscribers, scheduled_message
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


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


@pytest.mark.parametrize("change", [{"channels": ["statuspage", "email", "webhook"]}, {"phase": "resolution"},
                                    {"audience": "internal", "channels": ["email"]}, {"is_announcement": True}])
def test_a_pre_approved_message_changed_in_anything_but_time_needs_approval(support, change):
    template = MessageTemplate.objects.get(name="Initial acknowledgement")
    message = messaging.create_message(incident=IncidentFactory(severity="SEV1"), author=support, template=template)
    assert message.is_unchanged_preapproved
    message = messaging.update_message(message, actor=support, **change)
    assert not Message.objects.get(pk=message.pk).is_unchanged_preapproved


@pytest.mark.parametrize(("followers", "text"), [("²", "fine"), (2**31, "fine"), (-1, "fine"), (5, "nul \x00 byte")])
def test_a_bad_item_is_reported_and_the_others_kept(api_as, support, followers, text):
    items = [{"external_id": "good", "text": "acme down", "posted_at": "2026-11-23T10:00:00Z"},
             {"external_id": "bad", "text": text, "posted_at": "2026-11-23T10:00:00Z", "author_followers": followers}]
    body = api_as(support).post("/api/v1/mentions/bulk/", items, format="json").json()
    assert [r["status"] for r in body["results"]] == ["created", "error"]


def test_a_failing_reminder_email_is_recorded_and_the_other_incidents_still_reminded(lead):
    for title in ("First", "Second"):
        services.create_incident(actor=lead, title=title, severity="SEV1",
                                 started_at=timezone.now() - timezone.timedelta(hours=2))
    with mock.patch("core.notify.send_mail", side_effect=smtplib.SMTPServerDisconnected("gone")):
        assert overdue.remind_overdue() == 2
    from incidents.models import TimelineEntry

    failures = TimelineEntry.objects.filter(description__contains="reminding the leads failed")
    assert failures.count() == 2


def test_a_new_title_or_severity_shows_on_the_status_json_at_once(client, lead):
    incident = services.create_incident(actor=lead, title="Slow search", severity="SEV3")
    assert client.get("/api/v2/incidents/unresolved.json").json()["incidents"][0]["impact"] == "minor"
    services.update_incident(incident, actor=lead, title="Search down", severity="SEV1")
    fresh = client.get("/api/v2/incidents/unresolved.json").json()["incidents"][0]
    assert (fresh["name"], fresh["impact"]) == ("Search down", "critical")


def test_the_incident_page_queries_do_not_grow_with_the_timeline(client, lead):
    incident = services.create_incident(actor=lead, title="x")
    client.force_login(lead)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(incident.get_absolute_url()).status_code == 200
        return len(captured)

    before = queries()
    for n in range(15):
        services.record(incident, "note", f"note {n}", lead)
    assert queries() == before


def test_the_message_list_queries_do_not_grow_with_the_messages(api_as, lead):
    incident = IncidentFactory()
    client = api_as(lead)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/v1/messages/").status_code == 200
        return len(captured)

    messaging.create_message(incident=incident, author=lead, headline="one", channels=["statuspage"])
    before = queries()
    for n in range(10):
        messaging.create_message(incident=incident, author=lead, headline=f"m{n}", channels=["statuspage"])
    assert queries() == before


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


def test_healthz_does_not_reveal_connection_details(client, monkeypatch):
    from core import health

    def refuse():
        raise OSError("connection to server at 10.0.3.4 port 5432 failed for user ears")

    monkeypatch.setitem(health.CHECKS, "database", refuse)
    body = client.get("/healthz").json()
    assert body["checks"]["database"] == {"ok": False, "ms": body["checks"]["database"]["ms"], "error": "OSError"}
    assert "10.0.3.4" not in str(body)


def test_subscribers_are_unaffected_by_the_skip_rule_when_still_subscribed(lead, mailoutbox):
    confirmed_subscribers(1)
    scheduled_message(lead, channels=["email"])
    delivery.dispatch_due_messages()
    assert delivery.send_deliveries(list(Delivery.objects.values_list("pk", flat=True))).sent == 1
    assert Subscriber.objects.count() == 1 and len(mailoutbox) == 1
