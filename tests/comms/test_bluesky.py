"""The Bluesky channel against a local fake PDS (tests/fakes/bluesky.py): what crossed it, how many times."""

import time

import grapheme
import pytest
from django.utils import timezone

from comms import delivery
from comms.channels import get_transport
from comms.channels.bluesky import forget_sessions, record_key
from comms.choices import DeliveryStatus, MessageState
from comms.lint import lint_message
from comms.models import Delivery, Message
from comms.rendering import link_facets, render_all
from tests.comms import social_helpers
from tests.comms.helpers import scheduled_message
from tests.comms.social_helpers import STATUS_PAGE, make_due
from tests.factories import IncidentFactory
from tests.fakes.bluesky import APP_PASSWORD, DID, HANDLE, FakeBluesky
from tests.test_settings import manage_check

pytestmark = pytest.mark.django_db

CREATE = "/xrpc/com.atproto.repo.createRecord"


@pytest.fixture
def bluesky(settings):
    forget_sessions()
    with FakeBluesky() as fake:
        settings.BLUESKY_CONFIGURED = True
        settings.BLUESKY_HANDLE, settings.BLUESKY_APP_PASSWORD = HANDLE, APP_PASSWORD
        settings.BLUESKY_SERVICE_URL = fake.url
        yield fake
    forget_sessions()


def send_due(message=None) -> delivery.BatchOutcome:
    return social_helpers.send_due("bluesky", message)


def test_an_approved_message_is_posted_once_with_a_clickable_status_page_link(bluesky, lead):
    message = scheduled_message(lead, channels=["bluesky"], headline="Café checkout is failing ☕")

    assert send_due().sent == 1

    [call] = bluesky.calls("POST", CREATE)
    assert call.body["repo"] == DID and call.body["collection"] == "app.bsky.feed.post"
    record = call.body["record"]
    assert record["text"].startswith("Café checkout is failing ☕ — Payments fail at checkout")
    assert record["text"].endswith(STATUS_PAGE) and "reply" not in record
    [facet] = record["facets"]
    start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
    assert record["text"].encode()[start:end].decode() == STATUS_PAGE  # byte offsets, not character offsets
    assert facet["features"][0]["uri"] == STATUS_PAGE
    row = Delivery.objects.get()
    made = bluesky.records[call.body["rkey"]]
    assert (row.status, row.external_id) == (DeliveryStatus.SENT, f"{made['uri']} {made['cid']}")
    message.refresh_from_db()
    assert message.state == MessageState.SENT


def test_follow_ups_reply_to_the_previous_post_with_the_incidents_first_post_as_root(bluesky, lead):
    incident = IncidentFactory(title="Checkout errors")
    for headline in ("Checkout is failing", "Still investigating", "Fixed"):
        send_due(scheduled_message(lead, incident=incident, channels=["bluesky"], headline=headline))
    send_due(scheduled_message(lead, channels=["bluesky"], headline="Login is slow"))

    records = [call.body["record"] for call in bluesky.calls("POST", CREATE)]
    made = list(bluesky.records.values())
    first, second = ({"uri": m["uri"], "cid": m["cid"]} for m in made[:2])
    assert "reply" not in records[0]
    assert reply_of(records[1]) == {"root": first, "parent": first}
    assert reply_of(records[2]) == {"root": first, "parent": second}
    assert "reply" not in records[3]


def test_a_follow_up_waits_for_the_earlier_update_held_up_by_an_outage_and_then_replies_to_it(bluesky, lead):
    incident = IncidentFactory(title="Checkout errors")
    first = scheduled_message(lead, incident=incident, channels=["bluesky"])
    second = scheduled_message(lead, incident=incident, channels=["bluesky"], headline="Still investigating")
    delivery.dispatch_due_messages()  # both due at once: the first goes first
    bluesky.fail_next(CREATE, 503, body={"error": "InternalServerError", "message": "down"})
    assert send_due(first).retry_ids  # the PDS is down: the first update waits for its retry

    outcome = send_due(second)

    assert (outcome.sent, len(outcome.retry_ids)) == (0, 1)  # not its turn: nothing posted out of order
    assert len(bluesky.calls("POST", CREATE)) == 1  # only the first's failed try
    assert Delivery.objects.get(message=second).attempts == 0  # the wait is no attempt

    make_due()
    send_due(first)
    send_due(second)

    records = [call.body["record"] for call in bluesky.calls("POST", CREATE)][1:]
    assert [record["text"].split(" — ")[0] for record in records] == [first.headline, second.headline]
    made = list(bluesky.records.values())
    assert "reply" not in records[0]
    assert reply_of(records[1])["parent"] == {"uri": made[0]["uri"], "cid": made[0]["cid"]}


def reply_of(record: dict) -> dict:
    """The reply refs' uri and cid (the SDK adds each ref's $type, com.atproto.repo.strongRef)."""
    return {part: {"uri": ref["uri"], "cid": ref["cid"]} for part, ref in record["reply"].items() if part != "$type"}


def test_the_session_is_created_once_and_reused(bluesky, lead):
    send_due(scheduled_message(lead, channels=["bluesky"]))
    send_due(scheduled_message(lead, channels=["bluesky"], headline="Another update"))

    assert bluesky.sessions_created == 1 and len(bluesky.posted) == 2


def test_a_post_is_cut_to_300_graphemes_and_keeps_its_link(bluesky, lead):
    message = scheduled_message(lead, channels=["bluesky"], explain="Payments fail 👩🏽‍💻 at checkout. " * 30)

    send_due(message)

    [record] = bluesky.posted
    assert grapheme.length(record["text"]) <= 300 and "…" in record["text"]
    assert record["text"].endswith(STATUS_PAGE)
    assert [w.code for w in lint_message(message) if w.code == "bluesky_length"] == ["bluesky_length"]
    assert render_all(message).as_dict()["bluesky"]["limit"] == 300


def test_a_wrong_app_password_is_a_permanent_failure_naming_the_variables(bluesky, settings, lead):
    settings.BLUESKY_APP_PASSWORD = "wrong"
    scheduled_message(lead, channels=["bluesky"])

    assert send_due().failed == 1

    row = Delivery.objects.get()
    assert row.status == DeliveryStatus.FAILED and "(401)" in row.last_error
    assert "BLUESKY_HANDLE and BLUESKY_APP_PASSWORD" in row.last_error
    assert bluesky.records == {}


def test_a_429_is_retried_at_the_ratelimit_reset(bluesky, lead):
    reset = int(time.time()) + 600
    bluesky.fail_next(CREATE, 429, body={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                      headers={"ratelimit-limit": "5000", "ratelimit-remaining": "0", "ratelimit-reset": str(reset)})
    scheduled_message(lead, channels=["bluesky"])

    outcome = send_due()

    assert outcome.retry_in >= 590
    row = Delivery.objects.get()
    assert row.status == DeliveryStatus.QUEUED and row.last_error == "Bluesky rate limit reached (429) on post"
    assert abs(row.next_attempt_at.timestamp() - reset) < 10
    make_due()
    assert send_due().sent == 1 and len(bluesky.posted) == 1


def test_a_refused_record_is_permanent_and_not_retried(bluesky, lead):
    bluesky.fail_next(CREATE, 400, body={"error": "InvalidRequest", "message": "Duplicate post"})
    scheduled_message(lead, channels=["bluesky"])

    outcome = send_due()

    assert outcome.failed == 1 and outcome.retry_ids == []
    assert Delivery.objects.get().last_error == "Bluesky refused to post (400): Duplicate post"


def test_an_outage_then_recovery_posts_exactly_once(bluesky, lead):
    bluesky.fail_next(CREATE, 503, times=2, body={"error": "InternalServerError", "message": "Unavailable"})
    scheduled_message(lead, channels=["bluesky"])

    social_helpers.assert_two_failures_then_one_post("bluesky", "Bluesky server error (503) on post")

    assert len(bluesky.calls("POST", CREATE)) == 3 and len(bluesky.posted) == 1


def test_a_retry_after_a_lost_answer_finds_the_post_already_made_and_does_not_post_again(bluesky, lead):
    scheduled_message(lead, channels=["bluesky"])
    send_due()
    made = Delivery.objects.get().external_id
    # The record was made, but suppose the answer never arrived: the row goes back to the queue for a retry.
    Delivery.objects.update(status=DeliveryStatus.QUEUED, external_id="", next_attempt_at=None)

    assert send_due().sent == 1

    assert len(bluesky.calls("POST", CREATE)) == 1 and len(bluesky.posted) == 1
    assert Delivery.objects.get().external_id == made


def test_the_record_key_is_a_valid_tid_and_the_same_for_every_attempt(bluesky, lead):
    scheduled_message(lead, channels=["bluesky"])
    delivery.dispatch_due_messages()
    row = Delivery.objects.get()

    key = record_key(row)

    assert key == record_key(Delivery.objects.get()) and len(key) == 13
    assert key[0] in "234567abcdefghij" and set(key) <= set("234567abcdefghijklmnopqrstuvwxyz")


def test_without_configuration_the_reason_names_the_variables(settings):
    settings.BLUESKY_CONFIGURED = False
    transport = get_transport("bluesky")
    assert not transport.is_configured()
    assert transport.not_configured_reason() == (
        "Bluesky is not configured: set BLUESKY_HANDLE and BLUESKY_APP_PASSWORD.")


def test_link_facets_count_bytes_of_utf8():
    text = "Ünïcödé 👍 https://status.example.com/x."

    [facet] = link_facets(text)

    start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
    assert text.encode()[start:end] == b"https://status.example.com/x"
    assert start != text.index("https")  # the characters before it take more than a byte each


def test_half_configured_bluesky_stops_startup_naming_the_missing_variable(tmp_path):
    result = manage_check(tmp_path, BLUESKY_HANDLE="acme.bsky.social")
    assert result.returncode != 0
    assert "BLUESKY_APP_PASSWORD must be set: Bluesky needs all of" in result.stderr


def test_a_service_url_that_is_not_a_url_stops_startup(tmp_path):
    result = manage_check(tmp_path, BLUESKY_SERVICE_URL="bsky.social")
    assert result.returncode != 0
    assert "BLUESKY_SERVICE_URL must be an absolute http:// or https:// URL" in result.stderr


@pytest.mark.parametrize("channel", ["mastodon", "bluesky"])
def test_an_announcement_on_mastodon_or_bluesky_is_flagged_during_the_quiet_period(settings, channel):
    settings.COMMS_QUIET_PERIOD_DAYS = 7
    IncidentFactory(severity="SEV1", status="resolved", resolved_at=timezone.now() - timezone.timedelta(days=2))
    message = Message(incident=IncidentFactory(), headline="New dashboard", explain="Launch.", channels=[channel],
                      is_announcement=True)

    assert "quiet_period" in {warning.code for warning in lint_message(message)}
