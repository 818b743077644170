"""Deliverability: email through a provider's API (anymail, against a local fake Postmark), its tracking webhooks
(Postmark and Mailgun payloads) turning hard bounces and complaints into a suppression list every sender honours."""

import base64
import hashlib
import hmac
import json

import pytest
from django.core import mail
from django.utils import timezone

from comms import delivery, subscriptions
from comms.choices import DeliveryStatus
from comms.models import Delivery, Subscriber
from core.models import Suppression
from core.notify import notify_people
from core.suppression import is_suppressed, suppress
from tests.comms.helpers import confirmed_subscribers, scheduled_message
from tests.fakes.postmark import TOKEN, FakePostmark

pytestmark = pytest.mark.django_db

SECRET = "ears:webhook-secret"
MAILGUN_KEY = "mailgun-signing-key"


@pytest.fixture
def postmark(settings):
    with FakePostmark(inactive=["gone@example.com"]) as fake:
        settings.EMAIL_PROVIDER = "postmark"
        settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
        settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": TOKEN, "POSTMARK_API_URL": fake.url + "/",
                            "WEBHOOK_SECRET": SECRET}
        yield fake


def auth(secret=SECRET) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


def send_all(message) -> list[Delivery]:
    assert delivery.dispatch_due_messages() == [message.pk]
    ids = list(Delivery.objects.filter(message=message, channel="email").values_list("pk", flat=True))
    delivery.send_deliveries(ids)
    return list(Delivery.objects.filter(pk__in=ids).order_by("recipient"))


# --- Sending through the provider's API ---------------------------------------------------------------------------

def test_an_update_goes_through_the_providers_api_with_its_message_id_and_one_click_unsubscribe(lead, postmark):
    confirmed_subscribers(2)
    rows = send_all(scheduled_message(lead, channels=["email"]))
    assert [(row.status, row.external_id) for row in rows] == [("sent", "pm-1"), ("sent", "pm-2")] or sorted(
        row.external_id for row in rows) == ["pm-1", "pm-2"]
    assert {body["To"] for body in postmark.sent} == {"reader0@example.com", "reader1@example.com"}
    headers = {header["Name"]: header["Value"] for header in postmark.sent[0]["Headers"]}
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/status/unsubscribe/" in headers["List-Unsubscribe"]


def test_an_address_the_provider_refuses_fails_for_good_and_the_others_are_sent(lead, postmark):
    Subscriber.objects.create(email="gone@example.com", confirmed_at=timezone.now())
    confirmed_subscribers(1)
    rows = send_all(scheduled_message(lead, channels=["email"]))
    assert [(row.recipient, row.status) for row in rows] == [("gone@example.com", "failed"),
                                                            ("reader0@example.com", "sent")]
    assert "refused the recipient" in rows[0].last_error
    assert Suppression.objects.get().address == "gone@example.com"  # the provider's list becomes ours too


def test_a_provider_outage_is_retried_and_sends_once_it_recovers(lead, postmark):
    confirmed_subscribers(1)
    postmark.fail_next("/email", 503, body={"ErrorCode": 500, "Message": "Service unavailable"})
    message = scheduled_message(lead, channels=["email"])
    (row,) = send_all(message)
    assert row.status == DeliveryStatus.QUEUED and "503" in row.last_error
    Delivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    delivery.send_deliveries([row.pk])
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT and len(postmark.sent) == 1


def test_a_rejected_server_token_is_a_permanent_failure(lead, postmark, settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "POSTMARK_SERVER_TOKEN": "wrong"}
    confirmed_subscribers(1)
    (row,) = send_all(scheduled_message(lead, channels=["email"]))
    assert row.status == DeliveryStatus.FAILED and postmark.sent == []


# --- The suppression list, honoured by every sender ---------------------------------------------------------------

def test_suppressed_subscribers_get_no_delivery_row_at_all(lead):
    confirmed_subscribers(3)
    suppress("Reader1@Example.com", Suppression.Reason.HARD_BOUNCE, source="postmark")
    message = scheduled_message(lead, channels=["email"])
    delivery.dispatch_due_messages()
    assert sorted(Delivery.objects.filter(message=message).values_list("recipient", flat=True)) == [
        "reader0@example.com", "reader2@example.com"]


def test_an_address_suppressed_after_the_fan_out_is_skipped_when_its_turn_comes(lead):
    confirmed_subscribers(2)
    message = scheduled_message(lead, channels=["email"])
    delivery.dispatch_due_messages()
    suppress("reader0@example.com", Suppression.Reason.COMPLAINT)
    ids = list(Delivery.objects.filter(message=message).values_list("pk", flat=True))
    delivery.send_deliveries(ids)
    assert dict(Delivery.objects.filter(message=message).values_list("recipient", "status")) == {
        "reader0@example.com": "skipped", "reader1@example.com": "sent"}
    assert [m.to for m in mail.outbox] == [["reader1@example.com"]]


def test_staff_notifications_leave_suppressed_addresses_out():
    suppress("lead@example.com", Suppression.Reason.HARD_BOUNCE)
    assert notify_people("Overdue", "Body", ["lead@example.com", "support@example.com"]) is None
    assert [m.to for m in mail.outbox] == [["support@example.com"]]


def test_a_new_confirmed_opt_in_lifts_the_suppression():
    suppress("back@example.com", Suppression.Reason.COMPLAINT)
    subscriber = subscriptions.subscribe("back@example.com")
    subscriptions.send_confirmation(subscriber.pk)
    assert len(mail.outbox) == 1  # the confirmation itself is the opt-in the address's owner asked for
    assert subscriptions.confirm(Subscriber.objects.get(pk=subscriber.pk).confirm_token)
    assert not is_suppressed("back@example.com")


# --- Tracking webhooks --------------------------------------------------------------------------------------------

def postmark_bounce(email, kind="HardBounce"):
    return {"RecordType": "Bounce", "ID": 42, "Type": kind, "TypeCode": 1, "MessageID": "pm-1", "Email": email,
            "BouncedAt": "2026-12-07T12:00:00Z", "Description": "The server was unable to deliver your message.",
            "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist."}


def test_a_postmark_hard_bounce_suppresses_the_address_and_unconfirms_its_subscriber(client, postmark):
    Subscriber.objects.create(email="Gone@example.com", confirmed_at=timezone.now())
    response = client.post("/email/events/postmark/", json.dumps(postmark_bounce("gone@example.com")),
                           content_type="application/json", **auth())
    assert response.status_code == 200
    row = Suppression.objects.get()
    assert (row.address, row.reason, row.source) == ("gone@example.com", "bounced", "postmark")
    assert not Subscriber.objects.get().is_confirmed


def test_a_postmark_spam_complaint_suppresses_and_a_soft_bounce_only_counts(client, postmark):
    Subscriber.objects.create(email="full@example.com", confirmed_at=timezone.now())
    complaint = {"RecordType": "SpamComplaint", "ID": 43, "Type": "SpamComplaint", "MessageID": "pm-2",
                 "Email": "angry@example.com", "BouncedAt": "2026-12-07T12:00:00Z"}
    client.post("/email/events/postmark/", json.dumps(complaint), content_type="application/json", **auth())
    client.post("/email/events/postmark/", json.dumps(postmark_bounce("full@example.com", "SoftBounce")),
                content_type="application/json", **auth())
    assert list(Suppression.objects.values_list("address", "reason")) == [("angry@example.com", "complained")]
    subscriber = Subscriber.objects.get()
    assert subscriber.soft_bounces == 1 and subscriber.is_confirmed


@pytest.mark.parametrize("credentials", [None, "ears:wrong"])
def test_a_webhook_without_the_shared_secret_changes_nothing(client, postmark, credentials):
    extra = auth(credentials) if credentials else {}
    response = client.post("/email/events/postmark/", json.dumps(postmark_bounce("gone@example.com")),
                           content_type="application/json", **extra)
    assert response.status_code in (400, 401, 403)
    assert not Suppression.objects.exists()


def test_a_payload_of_another_shape_is_a_400_not_a_500(client, postmark):
    inbound = {"FromFull": {"Email": "someone@example.com"}, "Subject": "hi"}
    for body in (json.dumps(inbound), "not json", json.dumps([1, 2])):
        response = client.post("/email/events/postmark/", body, content_type="application/json", **auth())
        assert response.status_code == 400
    assert not Suppression.objects.exists()


def test_the_url_of_a_provider_that_is_not_configured_is_not_found(client, postmark):
    assert client.post("/email/events/mailgun/", "{}", content_type="application/json", **auth()).status_code == 404


def mailgun_event(recipient, event="failed", severity="permanent", key=MAILGUN_KEY):
    timestamp, token = "1765108800", "a" * 50
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {"signature": {"timestamp": timestamp, "token": token, "signature": signature},
            "event-data": {"event": event, "severity": severity, "recipient": recipient, "timestamp": 1765108800.0,
                           "id": "evt-1", "reason": "bounce",
                           "delivery-status": {"code": 550, "message": "mailbox unavailable"},
                           "message": {"headers": {"message-id": "mg-1@example.com"}}}}


@pytest.fixture
def mailgun(settings):
    settings.EMAIL_PROVIDER = "mailgun"
    settings.ANYMAIL = {"MAILGUN_API_KEY": "key", "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY,
                        "WEBHOOK_SECRET": SECRET}


def test_a_signed_mailgun_permanent_failure_suppresses_and_a_temporary_one_counts(client, mailgun):
    Subscriber.objects.create(email="slow@example.com", confirmed_at=timezone.now())
    for payload in (mailgun_event("gone@example.com"), mailgun_event("slow@example.com", severity="temporary")):
        response = client.post("/email/events/mailgun/", json.dumps(payload), content_type="application/json",
                               **auth())
        assert response.status_code == 200
    assert list(Suppression.objects.values_list("address", "reason", "source")) == [
        ("gone@example.com", "bounced", "mailgun")]
    assert Subscriber.objects.get().soft_bounces == 1


def test_a_mailgun_event_with_a_bad_signature_changes_nothing(client, mailgun):
    payload = mailgun_event("gone@example.com", key="someone-elses-key")
    response = client.post("/email/events/mailgun/", json.dumps(payload), content_type="application/json", **auth())
    assert response.status_code == 400 and not Suppression.objects.exists()


# --- The leads' page -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("role", "status"), [("lead", 200), ("support", 403), ("manager", 403), ("roleless", 403)])
def test_the_suppression_list_is_for_communications_leads(client, users, role, status):
    client.force_login(users[role])
    assert client.get("/email/suppressions/").status_code == status


def test_a_lead_sees_why_an_address_is_suppressed_and_lifts_it(client, lead):
    row, _ = suppress("gone@example.com", Suppression.Reason.HARD_BOUNCE, source="postmark", detail="550 no such user")
    client.force_login(lead)
    page = client.get("/email/suppressions/?q=GONE").content.decode()
    assert "gone@example.com" in page and "Hard bounce" in page and "550 no such user" in page
    response = client.post(f"/email/suppressions/{row.pk}/lift/", follow=True)
    assert "no longer suppressed" in response.content.decode() and not Suppression.objects.exists()


def test_support_cannot_lift_a_suppression(client, support):
    row, _ = suppress("gone@example.com", Suppression.Reason.HARD_BOUNCE)
    client.force_login(support)
    assert client.post(f"/email/suppressions/{row.pk}/lift/").status_code == 403
    assert Suppression.objects.exists()
