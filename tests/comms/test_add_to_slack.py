"""Add to Slack: a status page visitor subscribes a Slack channel through Slack's OAuth v2 flow (comms.endpoints.
slack_oauth). Slack is a local fake (tests/fakes/slack.py FakeSlack: oauth.v2.access and the incoming webhook it
hands out); the browser's way to Slack and back is the Location of our redirect and a GET of the callback."""

import logging
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing
from django.test import Client, override_settings
from django.urls import reverse

from comms.choices import DeliveryStatus
from comms.endpoints import slack_oauth
from comms.models import SubscriberEndpoint
from tests.comms.helpers import scheduled_message
from tests.comms.test_subscriber_webhooks import CHANNEL, deliver
from tests.factories import ComponentFactory, IncidentFactory
from tests.fakes.slack import CLIENT_ID, CLIENT_SECRET, HOOK_PATH, FakeSlack

pytestmark = pytest.mark.django_db

FORM = "/status/subscribe/webhooks/"
ADD = "/status/subscribe/slack/"
CALLBACK = "/status/subscribe/slack/callback/"
SITE_URL = "https://status.example.com"
START_AGAIN = "Nothing was subscribed. To add a Slack channel, start again from the subscribe page."


@pytest.fixture
def slack(settings, monkeypatch):
    """A Slack app configured, and the fake in Slack's place (its webhooks stand in for hooks.slack.com). slack-sdk
    would send through a proxy named in the environment, which a local fake cannot be reached through."""
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    with FakeSlack() as fake:
        settings.SLACK_OAUTH_CONFIGURED = True
        settings.SLACK_CLIENT_ID, settings.SLACK_CLIENT_SECRET = CLIENT_ID, CLIENT_SECRET
        settings.SLACK_URL = fake.url
        settings.SLACK_WEBHOOK_HOSTS = ["127.0.0.1"]
        settings.SITE_URL = SITE_URL
        yield fake


def press_add_to_slack(client, **fields) -> dict:
    """Post the form with the Add to Slack button; the query of the authorize URL the browser is sent to."""
    response = client.post(ADD, fields)
    assert response.status_code == 302, response.content.decode()
    return {key: values[0] for key, values in parse_qs(urlsplit(response["Location"]).query).items()}


def come_back(client, capture, **query):
    """Slack sends the browser back; the welcome message's task runs at once, after the commit."""
    with override_settings(CELERY_TASK_ALWAYS_EAGER=True), capture(execute=True):
        return client.get(CALLBACK, query)


def add_channel(client, slack, capture, code="code-1", **fields):
    """The whole flow: the button, the visitor's yes at Slack (a code granted for the fake's webhook), the callback."""
    state = press_add_to_slack(client, **fields)["state"]
    slack.grant(code, redirect_uri=SITE_URL + CALLBACK)
    return come_back(client, capture, code=code, state=state)


def exchanges(slack) -> list:
    return slack.calls("POST", "/api/oauth.v2.access")


def text(response) -> str:
    return response.content.decode()


def assert_no_credentials(response, slack):
    """Neither the client secret, nor the webhook URL (its path is the credential), nor Slack's token."""
    shown = text(response) + "".join(f"{key}: {value}" for key, value in response.items())
    for secret in (CLIENT_SECRET, HOOK_PATH, "/services/T0001", slack.hook_url, "xoxb-"):
        assert secret not in shown


# --- The button ---------------------------------------------------------------------------------------------


def test_without_a_slack_app_the_form_shows_no_add_to_slack_and_its_pages_are_not_there(client, settings):
    assert not settings.SLACK_OAUTH_CONFIGURED  # the tests' environment sets no SLACK_CLIENT_ID

    page = client.get(FORM)

    assert page.status_code == 200
    assert "Add to Slack" not in text(page) and ADD not in text(page)
    assert "form-action 'self';" in page["Content-Security-Policy"]
    assert client.post(ADD).status_code == 404
    assert client.get(CALLBACK, {"code": "x", "state": "y"}).status_code == 404


def test_with_a_slack_app_the_form_offers_add_to_slack_and_may_be_sent_on_to_slack(client, slack):
    page = client.get(FORM)

    assert page.status_code == 200
    assert f'formaction="{ADD}"' in text(page) and ">Add to Slack</button>" in text(page)
    assert f"form-action 'self' {slack.url};" in page["Content-Security-Policy"]
    # The project's own button: no image, script or style from Slack, and the policy for them unchanged.
    assert not re.search(r'(?:src|href)="[^"]*slack', text(page))
    assert "script-src 'self';" in page["Content-Security-Policy"]
    assert "img-src 'self' data:;" in page["Content-Security-Policy"]


def test_a_get_of_the_button_address_shows_the_form(client, slack):
    response = client.get(ADD)
    assert (response.status_code, response["Location"]) == (302, f"{FORM}#add-to-slack")


def test_add_to_slack_sends_the_visitor_to_slacks_authorize_page_with_the_app_scope_state_and_callback(
    client, slack, settings
):
    settings.SLACK_URL = "https://slack.com"  # only a redirect: nothing is requested from it

    response = client.post(ADD)

    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("https://slack.com/oauth/v2/authorize?")
    query = parse_qs(urlsplit(location).query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["scope"] == ["incoming-webhook"]
    assert query["redirect_uri"] == [f"{SITE_URL}/status/subscribe/slack/callback/"]
    [state] = query["state"]
    cookie = response.cookies[slack_oauth.COOKIE]
    assert cookie.value and cookie.value in signing.loads(state, salt="comms.endpoints.slack_oauth.state")["n"]
    assert (cookie["path"], cookie["max-age"], cookie["httponly"], cookie["samesite"]) == (CALLBACK, 600, True, "Lax")
    assert_no_credentials(response, slack)


def test_add_to_slack_is_limited_per_client_with_the_forms_other_subscriptions(client, slack, settings):
    settings.SUBSCRIBE_RATE_PER_IP = (1, 3600)
    press_add_to_slack(client)

    refused = client.post(ADD)

    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Too many subscription requests have come from your network" in text(refused)
    assert re.search(r'<input type="radio" name="kind" value="slack"[^>]* checked', text(refused))
    assert slack.requests == []


def test_a_component_that_is_not_on_the_status_page_is_refused_before_going_to_slack(client, slack):
    response = client.post(ADD, {"components": ["99999"]})

    assert response.status_code == 400
    assert "no longer on the status page" in text(response)


# --- Coming back from Slack ------------------------------------------------------------------------------------


def test_a_channel_added_at_slack_is_subscribed_confirmed_with_the_chosen_components_and_welcomed(
    client, lead, slack, django_capture_on_commit_callbacks
):
    api = ComponentFactory(name="API")
    database = ComponentFactory(name="Database")
    ComponentFactory(name="Dashboard")

    response = add_channel(client, slack, django_capture_on_commit_callbacks, components=[api.pk, database.pk])

    assert response.status_code == 200
    assert "Slack channel subscribed" in text(response) and "#status in Acme will now receive" in text(response)
    assert_no_credentials(response, slack)
    endpoint = SubscriberEndpoint.objects.get()
    assert (endpoint.kind, endpoint.url, endpoint.is_confirmed) == ("slack", slack.hook_url, True)
    assert set(endpoint.components.all()) == {api, database}
    [exchange] = exchanges(slack)
    assert exchange.body == {"code": "code-1", "redirect_uri": SITE_URL + CALLBACK}
    [welcome] = slack.posted  # the welcome, and no code: Slack's consent was the opt-in
    assert "This channel will now receive Example Inc. status updates about API, Database." in welcome["text"]
    assert f"/status/unsubscribe/webhooks/{endpoint.unsubscribe_token}/|Unsubscribe this channel>" in str(welcome)
    assert endpoint.confirm_code not in str(welcome)
    assert response.cookies[slack_oauth.COOKIE].value == ""  # the cookie is spent

    incident = IncidentFactory(title="API errors")
    incident.components.set([api])
    [row] = deliver(scheduled_message(lead, incident=incident, channels=[CHANNEL], headline="Checkout is failing"))
    assert row.status == DeliveryStatus.SENT, row.last_error
    assert len(slack.posted) == 2 and "Checkout is failing" in str(slack.posted[1])


def test_a_group_chosen_stands_for_its_components(client, slack, django_capture_on_commit_callbacks):
    from incidents.models import ComponentGroup

    europe = ComponentGroup.objects.create(name="Europe")
    paris, berlin = ComponentFactory(name="Paris", group=europe), ComponentFactory(name="Berlin", group=europe)
    ComponentFactory(name="Tokyo")

    add_channel(client, slack, django_capture_on_commit_callbacks, groups=[europe.pk])

    assert set(SubscriberEndpoint.objects.get().components.all()) == {paris, berlin}


def test_component_names_in_the_welcome_are_escaped_for_slack(client, slack, django_capture_on_commit_callbacks):
    hostile = ComponentFactory(name="<!channel> & <https://evil.example|Login>")

    add_channel(client, slack, django_capture_on_commit_callbacks, components=[hostile.pk])

    [welcome] = slack.posted
    assert "about &lt;!channel&gt; &amp; &lt;https://evil.example|Login&gt;." in welcome["text"]
    assert "<!channel>" not in str(welcome) and "<https://evil.example" not in str(welcome)


def test_a_state_works_once(client, slack, django_capture_on_commit_callbacks):
    state = press_add_to_slack(client)["state"]
    nonce = client.cookies[slack_oauth.COOKIE].value
    slack.grant("code-1")
    first = come_back(client, django_capture_on_commit_callbacks, code="code-1", state=state)
    assert first.status_code == 200
    client.cookies[slack_oauth.COOKIE] = nonce  # even with the browser's cookie put back
    slack.grant("code-2")

    again = come_back(client, django_capture_on_commit_callbacks, code="code-2", state=state)

    assert again.status_code == 400
    assert f"It has been used already. {START_AGAIN}" in text(again)
    assert len(exchanges(slack)) == 1 and SubscriberEndpoint.objects.count() == 1


def test_a_state_older_than_ten_minutes_is_refused(client, slack, monkeypatch, django_capture_on_commit_callbacks):
    state = press_add_to_slack(client)["state"]
    slack.grant("code-1")
    monkeypatch.setattr(slack_oauth, "now", lambda: time.time() + 601)

    response = come_back(client, django_capture_on_commit_callbacks, code="code-1", state=state)

    assert response.status_code == 400
    assert "It was started more than 10 minutes ago." in text(response)
    assert exchanges(slack) == [] and not SubscriberEndpoint.objects.exists()


def _changed(state: str) -> str:
    position = len(state) // 3
    return state[:position] + ("A" if state[position] != "A" else "B") + state[position + 1 :]


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(_changed, id="a character changed"),
        pytest.param(
            lambda state: signing.dumps({"n": "x", "t": int(time.time()), "c": [], "g": []}),
            id="our key, another purpose",
        ),
        pytest.param(lambda state: "", id="missing"),
    ],
)
def test_a_state_this_site_did_not_make_is_refused(client, slack, forge, django_capture_on_commit_callbacks):
    state = press_add_to_slack(client)["state"]
    slack.grant("code-1")

    response = come_back(client, django_capture_on_commit_callbacks, code="code-1", state=forge(state))

    assert response.status_code == 400
    assert "did not come from this status page" in text(response)
    assert exchanges(slack) == [] and not SubscriberEndpoint.objects.exists()


def test_a_state_from_another_browser_is_refused(client, slack, django_capture_on_commit_callbacks):
    state = press_add_to_slack(client)["state"]
    slack.grant("code-1")

    response = come_back(Client(), django_capture_on_commit_callbacks, code="code-1", state=state)

    assert response.status_code == 400
    assert "It was started in another browser" in text(response)
    assert exchanges(slack) == [] and not SubscriberEndpoint.objects.exists()


@pytest.mark.parametrize("with_state", [True, False], ids=["its state", "no state"])
def test_saying_no_at_slack_subscribes_nothing_and_says_so(
    client, slack, with_state, django_capture_on_commit_callbacks
):
    state = press_add_to_slack(client)["state"]

    response = come_back(
        client, django_capture_on_commit_callbacks, error="access_denied", **({"state": state} if with_state else {})
    )

    assert response.status_code == 200
    assert "Nothing was subscribed" in text(response) and "cancelled at Slack" in text(response)
    assert exchanges(slack) == [] and not SubscriberEndpoint.objects.exists() and slack.posted == []


def test_a_callback_without_a_code_is_refused(client, slack, django_capture_on_commit_callbacks):
    state = press_add_to_slack(client)["state"]

    response = come_back(client, django_capture_on_commit_callbacks, state=state)

    assert response.status_code == 400 and "It carries no code from Slack." in text(response)


# --- Slack says no -------------------------------------------------------------------------------------------


def test_a_code_slack_does_not_know_asks_the_visitor_to_start_again(client, slack, django_capture_on_commit_callbacks):
    state = press_add_to_slack(client)["state"]

    response = come_back(client, django_capture_on_commit_callbacks, code="never-granted", state=state)

    assert response.status_code == 400
    assert "Slack did not accept this link" in text(response) and START_AGAIN in text(response)
    assert len(exchanges(slack)) == 1 and not SubscriberEndpoint.objects.exists()


def test_a_wrong_client_secret_is_a_502_for_the_visitor_and_a_logged_error_without_the_secret(
    client, slack, settings, caplog, django_capture_on_commit_callbacks
):
    settings.SLACK_CLIENT_SECRET = "ffffffffffffffffffffffffffffffff"
    caplog.set_level(logging.DEBUG)

    response = add_channel(client, slack, django_capture_on_commit_callbacks)

    assert response.status_code == 502
    assert "Slack did not complete the subscription" in text(response)
    assert "oauth.v2.access failed: bad_client_secret" in caplog.text
    assert settings.SLACK_CLIENT_SECRET not in caplog.text + text(response)
    assert not SubscriberEndpoint.objects.exists() and slack.posted == []


@pytest.mark.parametrize("failure", ["an HTTP 500", "no answer"])
def test_slack_failing_or_unreachable_is_a_502_not_a_500(
    client, slack, settings, failure, django_capture_on_commit_callbacks
):
    state = press_add_to_slack(client)["state"]
    slack.grant("code-1")
    if failure == "an HTTP 500":
        slack.fail_next("/api/oauth.v2.access", 500, body={"ok": False, "error": "fatal_error"})
    else:
        settings.SLACK_URL = "http://127.0.0.1:9"  # discard: nothing listens

    response = come_back(client, django_capture_on_commit_callbacks, code="code-1", state=state)

    assert response.status_code == 502
    assert not SubscriberEndpoint.objects.exists()


@pytest.mark.parametrize(
    "webhook_url, allowed_hosts",
    [
        pytest.param("https://hooks.example.com/services/T1/B1/secret", ["127.0.0.1"], id="not Slack's webhook host"),
        pytest.param(None, [], id="Slack's host, but a loopback address"),
    ],
)
def test_a_webhook_url_the_form_would_refuse_is_refused_from_slack_too(
    client, slack, settings, caplog, webhook_url, allowed_hosts, django_capture_on_commit_callbacks
):
    settings.OUTBOUND_ALLOWED_HOSTS = allowed_hosts  # no exception for the fake: 127.0.0.1 is refused as loopback
    state = press_add_to_slack(client)["state"]
    slack.grant("code-1", webhook_url=webhook_url)

    response = come_back(client, django_capture_on_commit_callbacks, code="code-1", state=state)

    assert response.status_code == 502
    assert "Slack did not complete the subscription" in text(response)
    assert not SubscriberEndpoint.objects.exists() and slack.posted == []
    assert "/services/" not in caplog.text + text(response)


# --- Twice ---------------------------------------------------------------------------------------------------


def test_adding_a_channel_that_is_already_subscribed_changes_nothing_and_posts_nothing(
    client, slack, django_capture_on_commit_callbacks
):
    api = ComponentFactory(name="API")
    add_channel(client, slack, django_capture_on_commit_callbacks, code="code-1", components=[api.pk])

    again = add_channel(client, slack, django_capture_on_commit_callbacks, code="code-2")

    assert again.status_code == 200 and "This Slack channel is already subscribed" in text(again)
    endpoint = SubscriberEndpoint.objects.get()
    assert list(endpoint.components.all()) == [api]
    assert len(slack.posted) == 1  # the first welcome only


def test_a_url_waiting_for_its_code_is_confirmed_when_its_channel_is_added_at_slack(
    client, slack, django_capture_on_commit_callbacks
):
    with override_settings(CELERY_TASK_ALWAYS_EAGER=True), django_capture_on_commit_callbacks(execute=True):
        client.post(FORM, {"kind": "slack", "url": slack.hook_url})
    waiting = SubscriberEndpoint.objects.get()
    assert not waiting.is_confirmed and len(slack.posted) == 1  # the code

    response = add_channel(client, slack, django_capture_on_commit_callbacks)

    assert "Slack channel subscribed" in text(response)
    endpoint = SubscriberEndpoint.objects.get()
    assert endpoint.pk == waiting.pk and endpoint.is_confirmed
    assert endpoint.confirm_token != waiting.confirm_token  # the code's link is spent
    assert len(slack.posted) == 2 and "will now receive" in slack.posted[1]["text"]


# --- Credentials -----------------------------------------------------------------------------------------------


def test_leads_see_which_channel_and_workspace_a_disabled_slack_subscription_posted_to_and_the_status_page_does_not(
    client, lead, slack, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    add_channel(client, slack, django_capture_on_commit_callbacks)
    assert SubscriberEndpoint.objects.get().place == "#status in Acme"
    SubscriberEndpoint.objects.update(disabled_at=timezone.now(), disabled_reason="Slack answered 404 (no_service)")
    status_page = client.get("/status/")
    client.force_login(lead)

    page = client.get(reverse("subscriber-endpoints"))

    assert "#status in Acme" in text(page) and "#status in Acme" not in text(status_page)
    assert_no_credentials(page, slack)


def test_control_and_format_characters_in_slacks_names_are_dropped_before_they_are_shown_or_stored(
    client, slack, django_capture_on_commit_callbacks
):
    state = press_add_to_slack(client)["state"]
    slack.grant("code-9", redirect_uri=SITE_URL + CALLBACK, channel="#sta\x00tus\u202e", team="Ac\u200bme\n")

    response = come_back(client, django_capture_on_commit_callbacks, code="code-9", state=state)

    assert response.status_code == 200 and "#status in Acme will now receive" in text(response)
    assert SubscriberEndpoint.objects.get().place == "#status in Acme"


def test_neither_the_secret_nor_the_webhook_url_nor_slacks_token_shows_on_any_page_or_in_the_logs(
    client, slack, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)  # slack-sdk logs whole answers at DEBUG: not from our client
    pages = [client.get(FORM), client.post(ADD)]
    pages.append(add_channel(client, slack, django_capture_on_commit_callbacks))
    pages.append(add_channel(client, slack, django_capture_on_commit_callbacks, code="code-2"))  # already subscribed
    pages.append(come_back(client, django_capture_on_commit_callbacks, code="code-3", state="x"))

    for page in pages:
        assert_no_credentials(page, slack)
    for secret in (CLIENT_SECRET, HOOK_PATH, "xoxb-"):
        assert secret not in caplog.text


# --- Settings ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variables", "sentence"),
    [
        (
            {"SLACK_CLIENT_ID": CLIENT_ID},
            'SLACK_CLIENT_SECRET must be set: "Add to Slack" needs all of SLACK_CLIENT_ID, SLACK_CLIENT_SECRET',
        ),
        (
            {"SLACK_CLIENT_ID": "my-app", "SLACK_CLIENT_SECRET": CLIENT_SECRET},
            "SLACK_CLIENT_ID must be the Client ID from the Slack app's Basic Information page, "
            "e.g. 1234567890.1234567890, got 'my-app'.",
        ),
        (
            {"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": "'not-a-secret-9f8e7d6c'"},
            "SLACK_CLIENT_SECRET must be the Client Secret from the Slack app's Basic Information page (letters and "
            "digits) (the value set is not; it is a secret, so it is not shown).",
        ),
    ],
)
def test_startup_with_a_slack_app_half_or_wrongly_set_stops_naming_the_variable(tmp_path, variables, sentence):
    from tests.test_settings import manage_check

    result = manage_check(tmp_path, **variables)

    assert result.returncode == 2 and f"Configuration error: {sentence}" in result.stderr
    assert "not-a-secret" not in result.stderr and "Traceback" not in result.stderr


def test_a_slack_app_with_both_values_starts_and_turns_add_to_slack_on(tmp_path):
    from tests.test_settings import production_variables, settings_under

    env = production_variables(tmp_path, SLACK_CLIENT_ID=CLIENT_ID, SLACK_CLIENT_SECRET=CLIENT_SECRET)
    assert settings_under(env, "SLACK_OAUTH_CONFIGURED", "SLACK_URL") == {
        "SLACK_OAUTH_CONFIGURED": True,
        "SLACK_URL": "https://slack.com",
    }
    assert settings_under(production_variables(tmp_path), "SLACK_OAUTH_CONFIGURED") == {"SLACK_OAUTH_CONFIGURED": False}
