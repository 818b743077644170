"""Status page subscriptions to Slack, Microsoft Teams, Discord and generic webhooks: double opt-in by a code posted
to the URL, delivery of approved public messages exactly once, one-click unsubscribe, retries, dead endpoints and
the abuse limits. Every request goes to a local fake (tests/fakes/slack.py, teams.py, discord.py)."""

import json
import re
from datetime import timedelta

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from comms import delivery, messaging
from comms.channels.webhook import sign
from comms.choices import Audience, DeliveryStatus
from comms.endpoints import subscriptions
from comms.models import Delivery, SubscriberEndpoint
from tests.comms.helpers import scheduled_message
from tests.factories import ComponentFactory, IncidentFactory
from tests.fakes.discord import FakeDiscordWebhook
from tests.fakes.slack import FakeSlackWebhook
from tests.fakes.teams import FakeTeamsWorkflow
from tests.security.test_outbound_requests import local_server

pytestmark = pytest.mark.django_db

SUBSCRIBE = "/status/subscribe/webhooks/"
CHANNEL = "subscriber_hooks"


@pytest.fixture(autouse=True)
def fakes_stand_in_for_the_real_hosts(settings):
    settings.SLACK_WEBHOOK_HOSTS = ["127.0.0.1"]  # the fakes stand in for hooks.slack.com and discord.com
    settings.DISCORD_WEBHOOK_HOSTS = ["127.0.0.1"]


@pytest.fixture
def slack():
    with FakeSlackWebhook() as fake:
        yield fake


@pytest.fixture
def discord():
    with FakeDiscordWebhook() as fake:
        yield fake


@pytest.fixture
def teams():
    with FakeTeamsWorkflow() as fake:
        yield fake


def subscribe(client, capture, kind: str, url: str, **fields):
    """Post the form; the message carrying the code is sent (its task run at once) after the commit."""
    with override_settings(CELERY_TASK_ALWAYS_EAGER=True), capture(execute=True):
        return client.post(SUBSCRIBE, {"kind": kind, "url": url, **fields})


def confirmed(kind: str, url: str, **fields) -> SubscriberEndpoint:
    now = timezone.now()
    return SubscriberEndpoint.objects.create(kind=kind, url=url, requested_at=now, confirmed_at=now, **fields)


def deliver(message) -> list[Delivery]:
    """Dispatch the message and send its rows once, as tests/comms/test_delivery.py does."""
    assert delivery.dispatch_due_messages() == [message.pk]
    ids = list(Delivery.objects.filter(message=message, channel=CHANNEL).values_list("pk", flat=True))
    delivery.send_deliveries(ids)
    return list(Delivery.objects.filter(message=message, channel=CHANNEL))


def send_again(rows) -> list[Delivery]:
    ids = [row.pk for row in rows]
    Delivery.objects.filter(pk__in=ids).update(next_attempt_at=timezone.now())
    delivery.send_deliveries(ids)
    return list(Delivery.objects.filter(pk__in=ids))


def code_in(text: str) -> str:
    return re.search(r"\b([A-Z2-9]{4}-[A-Z2-9]{4})\b", text).group(1)


def slack_text(post: dict) -> str:
    return json.dumps(post)


# --- Subscribing and confirming ---------------------------------------------------------------------------


def test_subscribing_a_slack_webhook_posts_one_message_with_a_code_and_asks_for_it(
        client, slack, django_capture_on_commit_callbacks):
    api = ComponentFactory(name="API")

    response = subscribe(client, django_capture_on_commit_callbacks, "slack", slack.hook_url, components=[api.pk])

    endpoint = SubscriberEndpoint.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("status-endpoint-confirm", args=[endpoint.confirm_token])
    assert (endpoint.kind, endpoint.is_confirmed, list(endpoint.components.all())) == ("slack", False, [api])
    [post] = slack.posted
    code = code_in(post["text"])
    assert code.replace("-", "") == endpoint.confirm_code
    assert f"/status/subscribe/webhooks/{endpoint.confirm_token}/?code={endpoint.confirm_code}" in slack_text(post)
    assert f"/status/unsubscribe/webhooks/{endpoint.unsubscribe_token}/" in slack_text(post)
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "We posted a message with a code to your Slack webhook" in page.content.decode()
    assert slack.hook_url not in page.content.decode()


def test_the_code_from_the_message_confirms_and_an_approved_public_message_then_reaches_the_channel_exactly_once(
        client, lead, slack, django_capture_on_commit_callbacks):
    subscribe(client, django_capture_on_commit_callbacks, "slack", slack.hook_url)
    endpoint = SubscriberEndpoint.objects.get()
    code = code_in(slack.posted[0]["text"])

    answer = client.post(reverse("status-endpoint-confirm", args=[endpoint.confirm_token]), {"code": code.lower()})

    assert answer.status_code == 200 and "Subscription confirmed" in answer.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.is_confirmed
    message = scheduled_message(lead, channels=[CHANNEL], headline="Checkout <!channel> & payments fail")
    [row] = deliver(message)
    assert row.status == DeliveryStatus.SENT, row.last_error
    assert row.recipient == f"slack-endpoint:{endpoint.pk}" and slack.hook_url not in row.recipient
    assert len(slack.posted) == 2
    update = slack_text(slack.posted[1])
    assert "Checkout &lt;!channel&gt; &amp; payments fail" in update  # slack_escape: no @channel, no stray markup
    assert f"/status/unsubscribe/webhooks/{endpoint.unsubscribe_token}/|Unsubscribe this channel>" in update

    send_again([row])  # the task delivered twice (a redelivered broker message): nothing crosses again
    assert len(slack.posted) == 2


def test_an_unconfirmed_webhook_receives_nothing_but_the_message_with_the_code(
        client, lead, slack, django_capture_on_commit_callbacks):
    subscribe(client, django_capture_on_commit_callbacks, "slack", slack.hook_url)

    rows = deliver(scheduled_message(lead, channels=[CHANNEL]))

    assert rows == []
    assert len(slack.posted) == 1 and "confirmation code" in slack.posted[0]["text"]


def test_a_wrong_code_confirms_nothing_and_tries_are_limited_per_link(
        client, slack, django_capture_on_commit_callbacks):
    subscribe(client, django_capture_on_commit_callbacks, "slack", slack.hook_url)
    endpoint = SubscriberEndpoint.objects.get()
    url = reverse("status-endpoint-confirm", args=[endpoint.confirm_token])
    wrong = "ZZZZ-ZZZZ" if endpoint.confirm_code != "ZZZZZZZZ" else "YYYY-YYYY"

    answers = [client.post(url, {"code": wrong}) for _ in range(subscriptions.CONFIRM_ATTEMPTS[0])]
    over = client.post(url, {"code": endpoint.confirm_code})  # even the right code, once over the limit

    assert {answer.status_code for answer in answers} == {400}
    assert "That is not the code we sent" in answers[0].content.decode()
    assert over.status_code == 429 and int(over["Retry-After"]) > 0
    endpoint.refresh_from_db()
    assert not endpoint.is_confirmed


def test_the_confirmation_link_fills_the_code_in_but_only_a_post_confirms(
        client, slack, django_capture_on_commit_callbacks):
    subscribe(client, django_capture_on_commit_callbacks, "slack", slack.hook_url)
    endpoint = SubscriberEndpoint.objects.get()
    link = reverse("status-endpoint-confirm", args=[endpoint.confirm_token])

    page = client.get(f"{link}?code={endpoint.confirm_code}")

    assert page.status_code == 200 and f'value="{endpoint.confirm_code}"' in page.content.decode()
    endpoint.refresh_from_db()
    assert not endpoint.is_confirmed


def test_an_expired_request_cannot_be_confirmed_and_the_next_request_deletes_it(
        client, settings, slack, django_capture_on_commit_callbacks):
    subscribe(client, django_capture_on_commit_callbacks, "slack", slack.hook_url)
    endpoint = SubscriberEndpoint.objects.get()
    expired = timezone.now() - timedelta(days=settings.ENDPOINT_CONFIRM_DAYS, seconds=1)
    SubscriberEndpoint.objects.update(requested_at=expired)

    answer = client.post(reverse("status-endpoint-confirm", args=[endpoint.confirm_token]),
                         {"code": endpoint.confirm_code})
    assert answer.status_code == 404
    subscriptions.forget_expired()
    assert not SubscriberEndpoint.objects.exists()


def test_subscribing_an_already_confirmed_url_changes_nothing_and_posts_nothing(
        client, slack, django_capture_on_commit_callbacks):
    endpoint = confirmed("slack", slack.hook_url)
    token = endpoint.unsubscribe_token

    response = subscribe(client, django_capture_on_commit_callbacks, "slack", slack.hook_url,
                         components=[ComponentFactory().pk])

    assert response.status_code == 200 and "already subscribed" in response.content.decode()
    assert slack.posted == []
    endpoint.refresh_from_db()
    assert endpoint.unsubscribe_token == token and not endpoint.components.exists()


def test_a_code_message_the_webhook_refuses_is_shown_on_the_confirmation_page(
        client, slack, django_capture_on_commit_callbacks):
    slack.remove()

    response = subscribe(client, django_capture_on_commit_callbacks, "slack", slack.hook_url)

    page = client.get(response["Location"])
    assert "could not be posted to your Slack webhook: Slack endpoint" in page.content.decode()
    assert "answered 404 (no_service)" in page.content.decode()


# --- Unsubscribing --------------------------------------------------------------------------------------


def test_the_unsubscribe_link_shows_a_button_and_only_a_post_unsubscribes(client, lead, slack):
    endpoint = confirmed("slack", slack.hook_url)
    url = reverse("status-endpoint-unsubscribe", args=[endpoint.unsubscribe_token])

    shown = client.get(url)
    assert shown.status_code == 200 and "Stop posting status updates here?" in shown.content.decode()
    assert SubscriberEndpoint.objects.exists()
    done = client.post(url)
    again = client.post(url)

    assert done.status_code == 200 and "Unsubscribed" in done.content.decode()
    assert again.status_code == 404
    assert deliver(scheduled_message(lead, channels=[CHANNEL])) == []
    assert slack.posted == []


def test_a_delivery_for_an_endpoint_unsubscribed_after_the_fan_out_is_skipped(lead, slack):
    endpoint = confirmed("slack", slack.hook_url)
    message = scheduled_message(lead, channels=[CHANNEL])
    delivery.dispatch_due_messages()
    subscriptions.unsubscribe(endpoint.unsubscribe_token)

    delivery.send_deliveries(list(Delivery.objects.filter(message=message).values_list("pk", flat=True)))

    assert Delivery.objects.get(message=message, channel=CHANNEL).status == DeliveryStatus.SKIPPED
    assert slack.posted == []


# --- Retries and dead endpoints ---------------------------------------------------------------------------


def test_slack_429_is_retried_no_sooner_than_its_retry_after(lead, slack):
    confirmed("slack", slack.hook_url)
    slack.rate_limit(seconds=40)
    before = timezone.now()

    [row] = deliver(scheduled_message(lead, channels=[CHANNEL]))

    assert row.status == DeliveryStatus.QUEUED and "answered 429" in row.last_error
    assert row.next_attempt_at >= before + timedelta(seconds=40)
    [row] = send_again([row])
    assert row.status == DeliveryStatus.SENT
    assert len(slack.posted) == 1


def test_discord_429_is_retried_no_sooner_than_the_retry_after_in_its_body(lead, discord):
    confirmed("discord", discord.hook_url)
    discord.rate_limit(retry_after=7.5)
    before = timezone.now()

    [row] = deliver(scheduled_message(lead, channels=[CHANNEL]))

    assert row.status == DeliveryStatus.QUEUED
    assert row.next_attempt_at >= before + timedelta(seconds=7.5)
    [row] = send_again([row])
    assert row.status == DeliveryStatus.SENT and row.external_id == discord.posted[0]["id"]


@pytest.mark.parametrize(("break_it", "answer"), [
    (lambda fake: fake.remove(), "answered 404 (no_service)"),
    (lambda fake: fake.archive(), "answered 410 (channel_is_archived)"),
])
def test_a_removed_or_archived_slack_webhook_is_disabled_after_the_limit_of_failures_in_a_row(
        lead, settings, slack, break_it, answer):
    settings.SUBSCRIBER_ENDPOINT_MAX_FAILURES = 2
    endpoint = confirmed("slack", slack.hook_url)
    break_it(slack)

    first = deliver(scheduled_message(lead, channels=[CHANNEL]))
    endpoint.refresh_from_db()
    assert [row.status for row in first] == [DeliveryStatus.FAILED] and answer in first[0].last_error
    assert (endpoint.consecutive_failures, endpoint.disabled_at) == (1, None)
    deliver(scheduled_message(lead, channels=[CHANNEL]))
    endpoint.refresh_from_db()

    assert endpoint.consecutive_failures == 2 and endpoint.disabled_at is not None
    assert answer in endpoint.disabled_reason and slack.hook_url not in endpoint.disabled_reason
    assert deliver(scheduled_message(lead, channels=[CHANNEL])) == []  # recipients() leaves it out
    assert len(slack.requests) == 2


def test_a_success_resets_the_count_of_failures(lead, discord):
    endpoint = confirmed("discord", discord.hook_url, consecutive_failures=3)

    [row] = deliver(scheduled_message(lead, channels=[CHANNEL]))

    endpoint.refresh_from_db()
    assert row.status == DeliveryStatus.SENT and endpoint.consecutive_failures == 0


def test_a_deleted_discord_webhook_counts_against_the_endpoint(lead, discord):
    endpoint = confirmed("discord", discord.hook_url)
    discord.delete()

    [row] = deliver(scheduled_message(lead, channels=[CHANNEL]))

    endpoint.refresh_from_db()
    assert row.status == DeliveryStatus.FAILED and "answered 404 (Unknown Webhook)" in row.last_error
    assert endpoint.consecutive_failures == 1


def test_leads_see_disabled_webhooks_by_host_and_may_enable_one_again(client, lead, support, slack):
    endpoint = confirmed("slack", slack.hook_url, consecutive_failures=5, disabled_at=timezone.now(),
                         disabled_reason="Slack endpoint #1 answered 404 (no_service)")
    client.force_login(lead)

    page = client.get(reverse("subscriber-endpoints"))

    assert page.status_code == 200
    text = page.content.decode()
    assert "answered 404 (no_service)" in text and "127.0.0.1" in text and slack.hook_url not in text
    client.post(reverse("subscriber-endpoint-enable", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert (endpoint.disabled_at, endpoint.consecutive_failures) == (None, 0)
    client.force_login(support)
    assert client.get(reverse("subscriber-endpoints")).status_code == 403


# --- Each kind's message --------------------------------------------------------------------------------


def test_discord_gets_an_embed_with_its_markdown_escaped_and_no_mentions_allowed(lead, settings, discord):
    endpoint = confirmed("discord", discord.hook_url)

    [row] = deliver(scheduled_message(lead, channels=[CHANNEL], headline="@everyone **down** [click](https://x.test)"))

    [post] = discord.posted
    assert row.status == DeliveryStatus.SENT and row.external_id == post["id"]
    assert discord.calls("POST", "/api/webhooks/112233445566778899/fake-discord-token")[0].query == {"wait": ["true"]}
    assert post["allowed_mentions"] == {"parse": []}
    [embed] = post["embeds"]
    assert r"\@everyone \*\*down\*\* \[click\]\(https\:" in embed["description"]
    unsubscribe = f"{settings.SITE_URL}/status/unsubscribe/webhooks/{endpoint.unsubscribe_token}/"
    assert embed["description"].endswith(f"[Unsubscribe this channel]({unsubscribe})")


def test_teams_gets_an_adaptive_card_with_text_as_written_and_an_unsubscribe_action(lead, teams):
    endpoint = confirmed("teams", teams.hook_url)

    [row] = deliver(scheduled_message(lead, channels=[CHANNEL], headline="Checkout [fails](https://x.test)"))

    assert row.status == DeliveryStatus.SENT, row.last_error
    [card] = teams.cards
    assert card["version"] == "1.4"
    runs = [inline["text"] for block in card["body"] for inline in block["inlines"]]
    assert "Checkout [fails](https://x.test)" in runs  # a TextRun: shown as written, never a link
    assert {block["type"] for block in card["body"]} == {"RichTextBlock"}
    [unsubscribe] = [action for action in card["actions"] if action["title"] == "Unsubscribe this channel"]
    assert unsubscribe["url"].endswith(f"/status/unsubscribe/webhooks/{endpoint.unsubscribe_token}/")


def test_teams_subscription_posts_the_code_in_an_adaptive_card(client, teams, django_capture_on_commit_callbacks):
    subscribe(client, django_capture_on_commit_callbacks, "teams", teams.hook_url)

    endpoint = SubscriberEndpoint.objects.get()
    [card] = teams.cards
    assert code_in(json.dumps(card)).replace("-", "") == endpoint.confirm_code


def test_a_generic_webhook_gets_a_signed_verification_then_signed_ears_json_with_an_unsubscribe_link(
        client, lead, django_capture_on_commit_callbacks):
    with local_server(204) as server:
        subscribe(client, django_capture_on_commit_callbacks, "webhook", server.url + "/hook")
        endpoint = SubscriberEndpoint.objects.get()
        [(_, _, headers, body)] = server.received
        verification = json.loads(body)
        assert verification["event"] == "subscription.verify"
        assert verification["signing_secret"] == endpoint.secret
        assert headers["X-EARS-Signature"] == sign(endpoint.secret, body)
        page = client.get(verification["confirm_url"].removeprefix("http://testserver"))
        assert page.status_code == 200
        client.post(reverse("status-endpoint-confirm", args=[endpoint.confirm_token]),
                    {"code": verification["confirmation_code"]})

        [row] = deliver(scheduled_message(lead, channels=[CHANNEL]))

    assert row.status == DeliveryStatus.SENT, row.last_error
    (_, _, headers, body) = server.received[1]
    payload = json.loads(body)
    assert headers["X-EARS-Signature"] == sign(endpoint.secret, body)
    assert (headers["X-EARS-Event"], headers["X-EARS-Delivery"]) == ("message.published", row.code)
    assert payload["event"] == "message.published" and payload["message"]["audience"] == Audience.PUBLIC
    assert payload["unsubscribe_url"].endswith(f"/status/unsubscribe/webhooks/{endpoint.unsubscribe_token}/")


# --- Components -------------------------------------------------------------------------------------------


def test_an_endpoint_hears_only_about_the_components_it_chose(lead, slack, discord):
    api, web = ComponentFactory(name="API"), ComponentFactory(name="Web")
    confirmed("slack", slack.hook_url).components.set([api])
    confirmed("discord", discord.hook_url)  # everything
    incident = IncidentFactory(title="Web is slow")
    incident.components.set([web])

    rows = deliver(scheduled_message(lead, incident=incident, channels=[CHANNEL]))

    assert [row.recipient.split("-")[0] for row in rows] == ["discord"]
    assert slack.posted == []


# --- What must not go out, or show --------------------------------------------------------------------------


def test_the_channel_cannot_be_chosen_for_an_internal_message(lead):
    with pytest.raises(Exception, match="public; it cannot carry"):
        messaging.validate_channels(Audience.INTERNAL, [CHANNEL])


def test_an_internal_message_never_reaches_a_subscriber_endpoint_even_if_the_channel_was_forced_on(lead, slack):
    confirmed("slack", slack.hook_url)
    message = scheduled_message(lead, channels=["statuspage"])
    type(message).objects.filter(pk=message.pk).update(audience=Audience.INTERNAL, channels=[CHANNEL])

    assert deliver(message) == []
    assert slack.requests == []


def test_no_subscriber_url_shows_on_the_public_pages(client, slack, discord):
    confirmed("slack", slack.hook_url)
    pending = SubscriberEndpoint.objects.create(kind="discord", url=discord.hook_url, requested_at=timezone.now())

    pages = [client.get(path) for path in (
        "/status/", SUBSCRIBE, reverse("status-endpoint-confirm", args=[pending.confirm_token]),
        reverse("status-endpoint-unsubscribe", args=[pending.unsubscribe_token]), "/api/v2/summary.json")]

    for page in pages:
        assert page.status_code == 200
        text = page.content.decode()
        assert "/services/T0001" not in text and "fake-discord-token" not in text
        assert slack.url not in text and discord.url not in text


def test_the_status_page_links_to_the_webhook_subscription_form(client):
    page = client.get("/status/").content.decode()
    assert f'href="{SUBSCRIBE}"' in page


# --- Settings -----------------------------------------------------------------------------------------------


def test_the_settings_have_their_documented_defaults(tmp_path):
    from tests.test_settings import production_variables, settings_under

    names = ("SUBSCRIBER_ENDPOINT_MAX_FAILURES", "UNCONFIRMED_ENDPOINTS_LIMIT", "ENDPOINT_CONFIRM_DAYS",
             "SLACK_WEBHOOK_HOSTS", "DISCORD_WEBHOOK_HOSTS")
    assert settings_under(production_variables(tmp_path), *names) == {
        "SUBSCRIBER_ENDPOINT_MAX_FAILURES": 5, "UNCONFIRMED_ENDPOINTS_LIMIT": 1000, "ENDPOINT_CONFIRM_DAYS": 2,
        "SLACK_WEBHOOK_HOSTS": ["hooks.slack.com"],
        "DISCORD_WEBHOOK_HOSTS": ["discord.com", "discordapp.com", "ptb.discord.com", "canary.discord.com"],
    }


@pytest.mark.parametrize(("name", "value", "sentence"), [
    ("SUBSCRIBER_ENDPOINT_MAX_FAILURES", "0", "SUBSCRIBER_ENDPOINT_MAX_FAILURES must be at least 1"),
    ("UNCONFIRMED_ENDPOINTS_LIMIT", "lots", "UNCONFIRMED_ENDPOINTS_LIMIT must be a whole number"),
    ("SLACK_WEBHOOK_HOSTS", "https://hooks.slack.com/", "SLACK_WEBHOOK_HOSTS must be a comma-separated list"),
])
def test_startup_with_a_bad_value_stops_naming_the_variable(tmp_path, name, value, sentence):
    from tests.test_settings import manage_check

    result = manage_check(tmp_path, **{name: value})

    assert result.returncode == 2 and f"Configuration error: {sentence}" in result.stderr
