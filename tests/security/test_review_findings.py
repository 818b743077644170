"""Regression tests for the findings of the independent review of the status-page, subscriber and listening
features: each failed before its fix."""

import json
import socket

import pytest
from rest_framework.test import APIClient

from comms.endpoints.subscriptions import receiver_key
from core.outbound import OutboundRefused, check_url
from tests.comms.test_alerts_api import make_source
from tests.comms.test_deliverability import auth
from tests.sentiment.test_comments_api import bearer, make_site, post, wordpress

pytestmark = pytest.mark.django_db


# --- Digits that are not ASCII digits are refused, never a 500 --------------------------------------------------

@pytest.mark.parametrize("headers, query", [
    ({"HTTP_X_ALERT_SOURCE": "²", "HTTP_X_SIGNATURE": "sha256=00"}, ""),
    ({"HTTP_X_SIGNATURE": "sha256=00"}, "?source=%C2%B2"),
])
def test_an_alert_source_named_by_a_superscript_digit_is_refused_as_unknown(headers, query):
    response = APIClient().post("/api/v1/alerts/" + query, "{}", content_type="application/json", **headers)
    assert response.status_code == 401


def test_a_signature_timestamp_in_superscript_digits_is_refused():
    source, _ = make_source(hmac_secret="s3cret")
    response = APIClient().post("/api/v1/alerts/", "{}", content_type="application/json",
                                HTTP_X_ALERT_SOURCE=str(source.pk), HTTP_X_SIGNATURE="sha256=00",
                                HTTP_X_SIGNATURE_TIMESTAMP="¹²³")
    assert response.status_code == 401


@pytest.mark.parametrize("days", ["²", "١٢", "30.0", "-1"])
def test_the_quality_api_refuses_a_period_that_is_not_plain_digits(api_as, support, days):
    assert api_as(support).get("/api/v1/mentions/quality/", {"days": days}).status_code == 400


# --- A well-formed but impossible comment date is that comment's error --------------------------------------------

@pytest.mark.parametrize("date", ["9999-99-99 99:99:99", "2026-12-07 09:15:00+99:00", "2026-02-30 10:00:00"])
def test_an_impossible_comment_date_is_an_error_for_that_comment_and_the_others_are_kept(date):
    _, token = make_site()
    response = post(bearer(token), [wordpress(1, comment_date_gmt=date), wordpress(2)])
    assert response.status_code == 200
    assert [item["status"] for item in response.json()["results"]] == ["error", "created"]


# --- The email provider's webhook ---------------------------------------------------------------------------------

def test_deeply_nested_json_to_the_tracking_webhook_is_a_400(client, settings):
    settings.EMAIL_PROVIDER = "postmark"
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "t", "WEBHOOK_SECRET": "ears:webhook-secret"}
    body = "[" * 50_000 + "]" * 50_000
    response = client.post("/email/events/postmark/", body, content_type="application/json", **auth())
    assert response.status_code == 400


@pytest.mark.parametrize("recipient", ["x" * 300 + "@example.com", "nul\x00@example.com", "no-at-sign"])
def test_a_tracking_event_for_something_that_is_not_an_address_suppresses_nothing(client, settings, recipient):
    from core.models import Suppression

    settings.EMAIL_PROVIDER = "postmark"
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "t", "WEBHOOK_SECRET": "ears:webhook-secret"}
    bounce = {"RecordType": "Bounce", "Type": "HardBounce", "Email": recipient, "BouncedAt": "2026-12-07T12:00:00Z"}
    client.post("/email/events/postmark/", json.dumps(bounce), content_type="application/json", **auth())
    assert not Suppression.objects.exists()


# --- Subscribing a webhook from the public page -------------------------------------------------------------------

def test_the_public_webhook_form_does_not_say_what_a_refused_host_resolves_to(client, monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo",
                        lambda *args, **kwargs: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.3.7", 443))])
    response = client.post("/status/subscribe/webhooks/", {"kind": "webhook", "url": "https://db.internal/hook"})
    page = response.content.decode()
    assert response.status_code == 400 and "public https:// addresses" in page
    assert "10.0.3.7" not in page and "private" not in page


@pytest.mark.parametrize("variant", ["https://hooks.example.com/hook?1", "https://HOOKS.example.com/hook#x",
                                     "https://hooks.example.com/./a/../hook", "https://hooks.example.com./hook"])
def test_variants_of_one_webhook_url_count_as_one_receiver_for_the_limit(variant):
    assert receiver_key(variant) == receiver_key("https://hooks.example.com/hook")


@pytest.mark.parametrize("url", ["https://evil.example\\@hooks.slack.com/services/T/B/x",
                                 "https://evil.example%5C@hooks.slack.com/services/T/B/x"])
def test_a_url_whose_host_parsers_read_differently_is_refused(url):
    try:
        check_url(url)
    except OutboundRefused:
        return
    from urllib.parse import urlsplit

    from urllib3.util import parse_url

    assert urlsplit(url).hostname == parse_url(url).host  # accepted only when both read the same host


def test_the_slack_form_refuses_a_backslash_url_that_reads_as_a_slack_host(client):
    response = client.post("/status/subscribe/webhooks/",
                           {"kind": "slack", "url": "https://evil.example\\@hooks.slack.com/services/T/B/x"})
    assert response.status_code == 400


@pytest.mark.parametrize("field", ["components", "groups"])
def test_a_huge_id_on_the_sms_form_is_a_form_error(field):
    from comms.statuspage.sms_views import SmsSubscribeForm

    form = SmsSubscribeForm({"phone": "+447911123456", field: ["99999999999999999999999"]})
    assert not form.is_valid() and field in form.errors
