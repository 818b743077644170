"""SSRF (OWASP A10) and abuse limits for the webhooks visitors subscribe from the status page: a URL a stranger
typed. Refused when it is entered (a clear form error) and again at every send (core.outbound inside the connection),
never redirected, never read past the size limit; and the form is limited per client, per URL and in total.

The network boundary is the socket module, as in test_outbound_requests.py (its `network` fixture)."""

import pytest
from django.utils import timezone

from comms import delivery
from comms.choices import DeliveryStatus
from comms.models import Delivery, SubscriberEndpoint
from core.outbound import RESPONSE_LIMIT_BYTES
from tests.comms.helpers import scheduled_message
from tests.security import test_outbound_requests as outbound

pytestmark = pytest.mark.django_db

PUBLIC, local_server = outbound.PUBLIC, outbound.local_server
network, guard_on = outbound.network, outbound.guard_on  # the socket boundary and the guard as production has it

SUBSCRIBE = "/status/subscribe/webhooks/"
CHANNEL = "subscriber_hooks"


PUBLIC_ONLY = "EARS posts only to public https:// addresses, and this URL is not one."


def url_error(response) -> str:
    assert response.status_code == 400, response.status_code
    return " ".join(response.context["form"].errors["url"])


def send_to(lead, kind: str, url: str) -> Delivery:
    now = timezone.now()
    endpoint = SubscriberEndpoint.objects.create(kind=kind, url=url, requested_at=now, confirmed_at=now)
    message = scheduled_message(lead, channels=[CHANNEL])
    delivery.dispatch_due_messages()
    delivery.send_deliveries(list(Delivery.objects.filter(message=message).values_list("pk", flat=True)))
    row = Delivery.objects.get(message=message, channel=CHANNEL)
    assert endpoint.url not in row.last_error  # the URL is the subscriber's secret: never in a staff-visible error
    return row


# --- Refused when entered ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "reason"), [
    ("http://10.0.0.5/hook", "10.0.0.5 is a private address"),
    ("http://127.0.0.1:6379/", "127.0.0.1 is a loopback address"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address"),
    ("http://[::1]/hook", "::1 is a loopback address"),
])
def test_the_form_refuses_a_url_at_a_refused_address_without_connecting_or_saying_why(
        client, guard_on, network, url, reason):
    response = client.post(SUBSCRIBE, {"kind": "webhook", "url": url})

    assert url_error(response) == PUBLIC_ONLY
    assert reason not in response.content.decode()  # the reason is for the logs, not for any visitor
    assert network.connects == [] and not SubscriberEndpoint.objects.exists()


def test_the_form_refuses_a_name_that_resolves_to_a_private_address(client, guard_on, network):
    network.resolve("hooks.example.test", "10.1.2.3")

    response = client.post(SUBSCRIBE, {"kind": "webhook", "url": "https://hooks.example.test/ears"})

    assert url_error(response) == PUBLIC_ONLY and "10.1.2.3" not in response.content.decode()
    assert network.connects == []


def test_the_form_refuses_plain_http_in_production(client, settings, network):
    settings.OUTBOUND_ALLOW_HTTP, settings.OUTBOUND_ALLOWED_HOSTS = False, []
    network.resolve("hooks.example.test", PUBLIC)

    response = client.post(SUBSCRIBE, {"kind": "webhook", "url": "http://hooks.example.test/ears"})

    assert url_error(response) == PUBLIC_ONLY


@pytest.mark.parametrize(("kind", "url", "error"), [
    ("slack", "https://hooks.example.test/services/T1/B1/x", "A Slack webhook URL starts with https://hooks.slack.com"),
    ("slack", "https://hooks.slack.com/other/path", "A Slack webhook URL starts with"),
    ("discord", "https://discord.example.test/api/webhooks/1/abc", "A Discord webhook URL looks like"),
    ("discord", "https://discord.com/channels/1/2", "A Discord webhook URL looks like"),
    ("teams", "https://acme.webhook.office.com/webhookb2/x", "Office 365 connector webhooks are retired"),
    ("webhook", "not a url", "Enter a valid URL"),
])
def test_each_kind_refuses_a_url_of_another_kind_with_a_clear_error(client, network, kind, url, error):
    assert error in url_error(client.post(SUBSCRIBE, {"kind": kind, "url": url}))
    assert network.connects == []


def test_real_slack_and_discord_urls_pass_the_kind_checks(
        client, settings, network, django_capture_on_commit_callbacks):
    network.resolve("hooks.slack.com", PUBLIC)
    network.resolve("discord.com", PUBLIC)
    settings.OUTBOUND_ALLOWED_HOSTS = []
    with django_capture_on_commit_callbacks(execute=False):  # the code message is not sent: no network here
        slack = client.post(SUBSCRIBE, {"kind": "slack", "url": "https://hooks.slack.com/services/T1/B2/abc"})
        discord = client.post(SUBSCRIBE, {"kind": "discord", "url": "https://discord.com/api/webhooks/123/a-b_c"})

    assert (slack.status_code, discord.status_code) == (302, 302)
    assert SubscriberEndpoint.objects.count() == 2


# --- Refused again at every send -------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "reason"), [
    ("http://10.0.0.5/hook", "10.0.0.5 is a private address"),
    ("http://127.0.0.1:6379/", "127.0.0.1 is a loopback address"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address"),
])
def test_a_send_to_a_refused_address_fails_for_good_counts_against_the_endpoint_and_connects_nowhere(
        lead, guard_on, network, url, reason):
    row = send_to(lead, "webhook", url)

    assert row.status == DeliveryStatus.FAILED and row.attempts == 1
    assert "was refused: " in row.last_error and reason in row.last_error
    assert SubscriberEndpoint.objects.get().consecutive_failures == 1
    assert network.connects == []


def test_a_name_that_was_public_when_entered_is_refused_when_it_resolves_to_a_private_address_later(
        lead, guard_on, network):
    network.resolve("rebinding.example.test", "10.9.8.7")

    row = send_to(lead, "webhook", "https://rebinding.example.test/hook")

    assert "rebinding.example.test resolves to 10.9.8.7, which is a private address" in row.last_error
    assert network.connects == []


@pytest.mark.parametrize("kind", ["slack", "webhook", "discord", "teams"])
def test_a_redirect_is_not_followed_for_any_kind_and_its_target_receives_nothing(lead, settings, kind):
    settings.SLACK_WEBHOOK_HOSTS = settings.DISCORD_WEBHOOK_HOSTS = ["127.0.0.1"]
    path = {"slack": "/services/T1/B1/x", "discord": "/api/webhooks/1/x"}.get(kind, "/hook")
    with local_server() as target, local_server(307, {"Location": f"{target.url}/stolen"}) as redirecting:
        row = send_to(lead, kind, redirecting.url + path)

    assert row.status == DeliveryStatus.FAILED and "a redirect, which is never followed" in row.last_error
    assert len(redirecting.received) == 1 and target.received == []


def test_no_more_than_the_limit_of_a_huge_answer_is_read(lead):
    size = 64 * 1024 * 1024
    with local_server(200, {"Content-Type": "application/octet-stream"}, size) as server:
        row = send_to(lead, "webhook", server.url + "/hook")
        assert server.finished.wait(10)

    assert row.status == DeliveryStatus.SENT
    assert server.sent < size // 2 and RESPONSE_LIMIT_BYTES == 64 * 1024


def test_the_slack_client_posts_only_through_the_outbound_guard(lead, guard_on, network, settings):
    settings.SLACK_WEBHOOK_HOSTS = ["hooks.slack.com"]
    network.resolve("hooks.slack.com", "127.0.0.1")  # a poisoned resolver

    row = send_to(lead, "slack", "https://hooks.slack.com/services/T1/B1/x")

    assert "hooks.slack.com resolves to 127.0.0.1, which is a loopback address" in row.last_error
    assert network.connects == []


# --- Abuse limits -----------------------------------------------------------------------------------------


@pytest.fixture
def no_network(settings, network):
    """Subscriptions whose code messages are never sent (their task is not run): only the form is under test."""
    network.resolve("hooks.example.test", PUBLIC)
    settings.OUTBOUND_ALLOWED_HOSTS = []
    return network


def test_subscription_requests_are_limited_per_client(client, settings, no_network):
    settings.SUBSCRIBE_RATE_PER_IP = (2, 3600)
    answers = [client.post(SUBSCRIBE, {"kind": "webhook", "url": f"https://hooks.example.test/{n}"}) for n in range(3)]

    assert [answer.status_code for answer in answers] == [302, 302, 429]
    assert int(answers[2]["Retry-After"]) > 0
    assert "Too many subscription requests have come from your network" in answers[2].content.decode()
    assert SubscriberEndpoint.objects.count() == 2


def test_subscription_requests_are_limited_per_target_url(client, settings, no_network):
    settings.SUBSCRIBE_RATE_PER_ADDRESS = (2, 86400)
    url = "https://hooks.example.test/same"
    answers = [client.post(SUBSCRIBE, {"kind": "webhook", "url": url}, REMOTE_ADDR=f"198.51.100.{n}")
               for n in range(3)]

    assert [answer.status_code for answer in answers] == [302, 302, 429]
    assert "Confirmation messages to this URL have been asked for too often" in answers[2].content.decode()


def test_new_subscriptions_pause_while_too_many_wait_for_their_code(client, settings, no_network):
    settings.UNCONFIRMED_ENDPOINTS_LIMIT = 1
    first = client.post(SUBSCRIBE, {"kind": "webhook", "url": "https://hooks.example.test/1"})
    second = client.post(SUBSCRIBE, {"kind": "webhook", "url": "https://hooks.example.test/2"})

    assert (first.status_code, second.status_code) == (302, 503)
    assert "Too many subscriptions are waiting for their confirmation code" in second.content.decode()
    assert SubscriberEndpoint.objects.count() == 1


def test_an_expired_request_no_longer_counts_towards_the_cap(client, settings, no_network):
    settings.UNCONFIRMED_ENDPOINTS_LIMIT = 1
    client.post(SUBSCRIBE, {"kind": "webhook", "url": "https://hooks.example.test/1"})
    SubscriberEndpoint.objects.update(requested_at=timezone.now() - timezone.timedelta(days=30))

    answer = client.post(SUBSCRIBE, {"kind": "webhook", "url": "https://hooks.example.test/2"})

    assert answer.status_code == 302
    assert list(SubscriberEndpoint.objects.values_list("url", flat=True)) == ["https://hooks.example.test/2"]
