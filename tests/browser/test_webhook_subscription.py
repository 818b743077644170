"""A visitor subscribes a Slack channel from the status page: the webhook URL (a local fake of Slack's incoming
webhooks), the code from the message posted to the channel, typed back; on a desktop and on a phone."""

import re

import pytest
from playwright.sync_api import expect

from comms.models import SubscriberEndpoint
from tests.factories import ComponentFactory
from tests.fakes.slack import FakeSlackWebhook

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def slack(settings):
    """The fake stands in for hooks.slack.com (plain http to 127.0.0.1 is let through by tests/conftest.py). No
    worker in this test: the task posting the code runs in the web request, after its commit."""
    settings.SLACK_WEBHOOK_HOSTS = ["127.0.0.1"]
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with FakeSlackWebhook() as fake:
        yield fake


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 390, "height": 844}],
                         ids=["desktop", "390 px"])
def test_a_visitor_subscribes_a_slack_channel_to_one_component_from_the_status_page(
        page, live_server, slack, viewport):
    ComponentFactory(name="API")
    database = ComponentFactory(name="Database")
    page.set_viewport_size(viewport)
    page.goto(f"{live_server.url}/status/")

    page.get_by_role("link", name="In Slack, Microsoft Teams, Discord or by webhook").click()
    expect(page.get_by_role("heading", name="Get updates in Slack, Teams, Discord or by webhook")).to_be_visible()
    expect(page.get_by_role("radio", name="Slack")).to_be_checked()
    page.get_by_label("Webhook URL").fill(slack.hook_url)
    page.get_by_label("Database").check()
    page.get_by_role("button", name="Subscribe").click()

    expect(page.get_by_role("heading", name="Enter the confirmation code")).to_be_visible()
    assert slack.hook_url not in page.content()
    [message] = slack.posted
    code = re.search(r"\b([A-Z2-9]{4}-[A-Z2-9]{4})\b", message["text"]).group(1)
    endpoint = SubscriberEndpoint.objects.get()
    assert not endpoint.is_confirmed
    page.get_by_label("Confirmation code", exact=True).fill(code)
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", name="Subscription confirmed")).to_be_visible()
    endpoint.refresh_from_db()
    assert (endpoint.kind, endpoint.url, endpoint.is_confirmed) == ("slack", slack.hook_url, True)
    assert list(endpoint.components.all()) == [database]
    assert len(slack.posted) == 1  # the message with the code, and nothing else yet
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


def test_a_visitor_adds_a_slack_channel_with_add_to_slack_and_never_sees_a_webhook_url(
        page, live_server, settings, monkeypatch):
    """Add to Slack, with the fake standing in for Slack's authorize page (the visitor says yes at once) and for
    oauth.v2.access. The button's POST is redirected to another origin: the page's CSP form-action must allow it."""
    from tests.fakes.slack import CLIENT_ID, CLIENT_SECRET, FakeSlack

    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    ComponentFactory(name="API")
    database = ComponentFactory(name="Database")
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.SLACK_WEBHOOK_HOSTS = ["127.0.0.1"]
    settings.SITE_URL = live_server.url
    settings.SLACK_OAUTH_CONFIGURED = True
    settings.SLACK_CLIENT_ID, settings.SLACK_CLIENT_SECRET = CLIENT_ID, CLIENT_SECRET
    violations = []
    page.on("console", lambda message: violations.append(message.text) if "Content Security Policy" in message.text
            else None)
    with FakeSlack() as slack:
        settings.SLACK_URL = slack.url
        page.goto(f"{live_server.url}/status/subscribe/webhooks/")
        page.get_by_label("Database").check()
        page.get_by_role("radio", name="Discord").check()
        expect(page.get_by_role("button", name="Add to Slack")).to_be_hidden()  # only with the Slack choice
        page.get_by_role("radio", name="Slack").check()
        page.get_by_role("button", name="Add to Slack").click()

        expect(page.get_by_role("heading", name="Slack channel subscribed")).to_be_visible()
        assert slack.hook_url not in page.content() and CLIENT_SECRET not in page.content()
        assert violations == []
        endpoint = SubscriberEndpoint.objects.get()
        assert (endpoint.kind, endpoint.is_confirmed, list(endpoint.components.all())) == ("slack", True, [database])
        [welcome] = slack.posted
        assert "status updates about Database" in welcome["text"]
