"""X and webhook transports against a patched HTTP layer: what crossed it, and how many times."""

import hashlib
import hmac
import json
import time

import pytest
import requests
from django.utils import timezone
from requests.structures import CaseInsensitiveDict

from comms import delivery
from comms.channels.webhook import SIGNATURE_HEADER
from comms.choices import DeliveryStatus, MessageState
from comms.models import Delivery, WebhookEndpoint
from comms.rendering import x_weighted_length
from tests.comms.helpers import scheduled_message
from tests.outermost_http import patched_requests

pytestmark = pytest.mark.django_db


def http_response(status: int, body: dict | None = None, headers: dict | None = None, url="https://x.test"):
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body or {}).encode()
    response.headers = CaseInsensitiveDict({"content-type": "application/json", **(headers or {})})
    response.url = url
    response.reason = {200: "OK", 201: "Created", 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests",
                       500: "Internal Server Error", 503: "Service Unavailable"}.get(status, "")
    return response


@pytest.fixture
def http():
    """The outermost HTTP boundary used by tweepy and by our webhooks."""
    with patched_requests() as request:
        yield request


@pytest.fixture
def x_configured(settings):
    settings.X_CONFIGURED = True
    settings.X_CREDENTIALS = {name: f"test-{name.lower()}" for name in settings.X_CREDENTIAL_NAMES}


def dispatch_one(message):
    delivery.dispatch_due_messages()
    return list(Delivery.objects.filter(message=message).values_list("pk", flat=True))


class TestX:
    def test_a_post_is_created_once_and_its_id_recorded(self, http, x_configured, lead):
        http.return_value = http_response(201, {"data": {"id": "1850000000000000001", "text": "…"}})
        message = scheduled_message(lead, channels=["x"])
        ids = dispatch_one(message)

        outcome = delivery.send_deliveries(ids)

        assert outcome.sent == 1
        assert http.call_count == 1
        _, method, url = http.call_args.args[:3]
        assert (method, url) == ("POST", "https://api.twitter.com/2/tweets")
        text = http.call_args.kwargs["json"]["text"]
        assert text.startswith("Checkout is failing for some customers — Payments fail at checkout")
        assert text.endswith("http://127.0.0.1:8000/status/")
        assert x_weighted_length(text) <= 280
        row = Delivery.objects.get()
        assert (row.status, row.external_id) == (DeliveryStatus.SENT, "1850000000000000001")
        message.refresh_from_db()
        assert message.state == MessageState.SENT

    def test_it_retries_on_429_and_honours_the_reset_time(self, http, x_configured, lead):
        reset = int(time.time()) + 900
        http.return_value = http_response(429, {"title": "Too Many Requests"}, {"x-rate-limit-reset": str(reset)})
        ids = dispatch_one(scheduled_message(lead, channels=["x"]))

        outcome = delivery.send_deliveries(ids)

        assert http.call_count == 1
        assert outcome.retry_ids == ids and outcome.retry_in >= 890
        row = Delivery.objects.get()
        assert row.status == DeliveryStatus.QUEUED and row.last_error == "X rate limit reached (429)"
        assert abs(row.next_attempt_at.timestamp() - reset) < 5
        # The wait is longer than any broker countdown: the sweeper picks it up once it is due.
        assert delivery.send_deliveries(ids).sent == 0 and http.call_count == 1

        http.return_value = http_response(201, {"data": {"id": "42", "text": "…"}})
        Delivery.objects.update(next_attempt_at=timezone.now())
        assert delivery.send_deliveries(ids).sent == 1
        assert http.call_count == 2

    @pytest.mark.parametrize("reset", ["²", "١٢", "99999999999999999999", "-5", "1.5e9"])
    def test_an_unreadable_rate_limit_reset_is_still_a_retry_not_a_crash(self, http, x_configured, lead, reset):
        http.return_value = http_response(429, {"title": "Too Many Requests"}, {"x-rate-limit-reset": reset})
        ids = dispatch_one(scheduled_message(lead, channels=["x"]))

        outcome = delivery.send_deliveries(ids)

        assert outcome.retry_ids == ids
        row = Delivery.objects.get()
        assert row.status == DeliveryStatus.QUEUED and row.last_error == "X rate limit reached (429)"

    def test_a_server_error_is_retried(self, http, x_configured, lead):
        http.side_effect = [http_response(503), http_response(201, {"data": {"id": "7", "text": "…"}})]
        ids = dispatch_one(scheduled_message(lead, channels=["x"]))
        first = delivery.send_deliveries(ids)
        assert first.retry_ids == ids and Delivery.objects.get().last_error == "X server error (503)"
        Delivery.objects.update(next_attempt_at=timezone.now())
        assert delivery.send_deliveries(ids).sent == 1
        assert http.call_count == 2

    def test_duplicate_content_403_is_permanent_and_not_retried(self, http, x_configured, lead):
        http.return_value = http_response(
            403, {"detail": "You are not allowed to create a Tweet with duplicate content.", "status": 403}
        )
        message = scheduled_message(lead, channels=["x"])
        ids = dispatch_one(message)

        outcome = delivery.send_deliveries(ids)
        Delivery.objects.update(next_attempt_at=timezone.now())
        delivery.send_deliveries(ids)

        assert outcome.failed == 1 and http.call_count == 1
        row = Delivery.objects.get()
        assert row.status == DeliveryStatus.FAILED
        assert "X refused the post (403)" in row.last_error and "duplicate content" in row.last_error
        message.refresh_from_db()
        assert message.state == MessageState.FAILED

    def test_without_credentials_nothing_is_sent_and_the_reason_is_recorded(self, http, settings, lead):
        settings.X_CONFIGURED = False
        message = scheduled_message(lead, channels=["statuspage"])
        Delivery.objects.create(message=message, channel="x", recipient="x")
        from comms.models import Message

        Message.objects.filter(pk=message.pk).update(state=MessageState.SENDING)
        delivery.send_deliveries(list(Delivery.objects.values_list("pk", flat=True)))
        assert http.call_count == 0
        assert Delivery.objects.get(channel="x").last_error.startswith("X is not configured: set X_API_KEY")


class TestWebhook:
    @pytest.fixture
    def endpoint(self):
        return WebhookEndpoint.objects.create(name="Ops", url="https://hooks.example.test/ears", secret="s3cret")

    def test_the_body_is_signed_with_hmac_sha256(self, http, endpoint, lead):
        http.return_value = http_response(204)
        ids = dispatch_one(scheduled_message(lead, channels=["webhook"]))

        assert delivery.send_deliveries(ids).sent == 1

        assert http.call_count == 1
        _, method, url = http.call_args.args[:3]
        body, headers = http.call_args.kwargs["data"], http.call_args.kwargs["headers"]
        assert (method, url) == ("POST", "https://hooks.example.test/ears")
        expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
        assert headers[SIGNATURE_HEADER] == expected
        payload = json.loads(body)
        assert payload["event"] == "message.published"
        assert payload["message"]["headline"] == "Checkout is failing for some customers"
        assert headers["X-EARS-Delivery"] == Delivery.objects.get().code

    def test_a_slack_endpoint_gets_a_slack_compatible_payload(self, http, endpoint, lead):
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(format="slack")
        http.return_value = http_response(200)
        delivery.send_deliveries(dispatch_one(scheduled_message(lead, channels=["webhook"])))
        payload = json.loads(http.call_args.kwargs["data"])
        assert payload["text"].startswith("*[SEV2 · Investigating] Checkout errors*")
        assert payload["blocks"][0]["type"] == "section"

    def test_a_5xx_is_retried_and_a_404_is_permanent(self, http, endpoint, lead):
        other = WebhookEndpoint.objects.create(name="Gone", url="https://gone.example.test/", secret="x")
        http.side_effect = lambda session, method, url, **kw: http_response(500 if "hooks" in url else 404, url=url)
        ids = dispatch_one(scheduled_message(lead, channels=["webhook"]))

        outcome = delivery.send_deliveries(ids)

        assert http.call_count == 2
        assert (outcome.sent, outcome.failed, len(outcome.retry_ids)) == (0, 1, 1)
        assert Delivery.objects.get(endpoint=other).last_error == "https://gone.example.test/ answered 404"
        assert Delivery.objects.get(endpoint=endpoint).status == DeliveryStatus.QUEUED

    def test_an_unreachable_endpoint_is_retried(self, http, endpoint, lead):
        http.side_effect = requests.ConnectionError("refused")
        outcome = delivery.send_deliveries(dispatch_one(scheduled_message(lead, channels=["webhook"])))
        assert len(outcome.retry_ids) == 1
        assert "could not be reached: ConnectionError" in Delivery.objects.get().last_error

    @pytest.mark.parametrize("retry_after", ["²", "١٠", " 30 ", "soon"])
    def test_an_odd_retry_after_from_an_endpoint_is_a_retry_not_a_crash(self, http, endpoint, lead, retry_after):
        http.return_value = http_response(429, headers={"Retry-After": retry_after})
        outcome = delivery.send_deliveries(dispatch_one(scheduled_message(lead, channels=["webhook"])))
        assert len(outcome.retry_ids) == 1
        assert Delivery.objects.get().status == DeliveryStatus.QUEUED


def test_an_x_rate_limit_reset_that_is_no_time_falls_back_to_the_default_wait():
    from sentiment.x_source import RATE_LIMIT_FALLBACK, _reset_time

    for reset in ["²", "99999999999999999999", "1" * 19, ""]:
        response = http_response(429, headers={"x-rate-limit-reset": reset})
        waited = _reset_time(response) - timezone.now()
        assert abs(waited - RATE_LIMIT_FALLBACK) < timezone.timedelta(seconds=5), reset
