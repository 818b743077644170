"""The Mastodon channel against a local fake instance (tests/fakes/mastodon.py): what crossed it, how many times."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from comms import delivery
from comms.choices import DeliveryStatus, MessageState
from comms.lint import lint_message
from comms.models import Delivery
from comms.rendering import mastodon_length, render_all
from tests.comms import social_helpers
from tests.comms.helpers import scheduled_message
from tests.comms.social_helpers import STATUS_PAGE, make_due
from tests.factories import IncidentFactory
from tests.fakes.mastodon import TOKEN, FakeMastodon
from tests.test_settings import manage_check

pytestmark = pytest.mark.django_db


@pytest.fixture
def mastodon(settings):
    with FakeMastodon() as instance:
        settings.MASTODON_CONFIGURED = True
        settings.MASTODON_API_BASE_URL = instance.url
        settings.MASTODON_ACCESS_TOKEN = TOKEN
        settings.MASTODON_VISIBILITY = "unlisted"
        yield instance


def send_due(message=None) -> delivery.BatchOutcome:
    return social_helpers.send_due("mastodon", message)


def test_an_approved_message_is_posted_once_with_the_status_page_link(mastodon, lead):
    message = scheduled_message(lead, channels=["mastodon"])

    outcome = send_due()

    assert outcome.sent == 1
    [posted] = mastodon.calls("POST", "/api/v1/statuses")
    assert posted.headers["authorization"] == f"Bearer {TOKEN}"
    assert posted.body["visibility"] == "unlisted"
    assert posted.body["status"].startswith("Checkout is failing for some customers — Payments fail at checkout")
    assert posted.body["status"].endswith(STATUS_PAGE)
    assert "in_reply_to_id" not in posted.body
    row = Delivery.objects.get()
    assert posted.headers["idempotency-key"] == f"ears-{row.code}"
    assert (row.status, row.external_id) == (DeliveryStatus.SENT, mastodon.posted[0]["id"])
    message.refresh_from_db()
    assert message.state == MessageState.SENT


def test_each_follow_up_of_an_incident_replies_to_its_previous_status_and_other_incidents_start_their_own(
        mastodon, lead):
    incident = IncidentFactory(title="Checkout errors")
    first = scheduled_message(lead, incident=incident, channels=["mastodon"])
    send_due(first)
    second = scheduled_message(lead, incident=incident, channels=["mastodon"], headline="Still investigating")
    send_due(second)
    third = scheduled_message(lead, incident=incident, channels=["mastodon"], headline="Fixed")
    send_due(third)
    other = scheduled_message(lead, channels=["mastodon"], headline="Login is slow")
    send_due(other)

    posts = mastodon.calls("POST", "/api/v1/statuses")
    assert len(posts) == 4
    ids = [status["id"] for status in mastodon.posted]
    assert "in_reply_to_id" not in posts[0].body
    assert posts[1].body["in_reply_to_id"] == ids[0]
    assert posts[2].body["in_reply_to_id"] == ids[1]
    assert "in_reply_to_id" not in posts[3].body


def test_a_follow_up_waits_for_the_earlier_update_held_up_by_an_outage_and_then_replies_to_it(mastodon, lead):
    incident = IncidentFactory(title="Checkout errors")
    first = scheduled_message(lead, incident=incident, channels=["mastodon"])
    second = scheduled_message(lead, incident=incident, channels=["mastodon"], headline="Still investigating")
    delivery.dispatch_due_messages()  # both due at once: the first goes first
    mastodon.fail_next("/api/v1/statuses", 503)
    assert send_due(first).retry_ids  # the instance is down: the first update waits for its retry

    outcome = send_due(second)

    assert (outcome.sent, len(outcome.retry_ids)) == (0, 1)  # not its turn: nothing posted out of order
    assert len(mastodon.calls("POST", "/api/v1/statuses")) == 1  # only the first's failed try
    waiting = Delivery.objects.get(message=second)
    assert (waiting.status, waiting.attempts) == (DeliveryStatus.QUEUED, 0)  # the wait is no attempt
    assert waiting.last_error == "Not tried: Waiting for the incident's earlier update to be posted first"

    make_due()
    send_due(first)
    send_due(second)

    assert [status["text"].split(" — ")[0] for status in mastodon.posted] == [first.headline, second.headline]
    assert mastodon.posted[0]["in_reply_to_id"] is None
    assert mastodon.posted[1]["in_reply_to_id"] == mastodon.posted[0]["id"]
    assert Delivery.objects.get(message=second).attempts == 1


def test_the_instance_limit_is_read_once_and_lets_a_longer_post_through(settings, lead):
    explain = "Payments fail at checkout for some cards. " * 18  # ≈ 760 characters: over 500, under 1000
    with FakeMastodon(max_characters=1000) as fake:
        settings.MASTODON_CONFIGURED, settings.MASTODON_API_BASE_URL = True, fake.url
        settings.MASTODON_ACCESS_TOKEN = TOKEN
        send_due(scheduled_message(lead, channels=["mastodon"], explain=explain))
        send_due(scheduled_message(lead, channels=["mastodon"], explain=explain, headline="Another"))

        assert len(fake.calls("GET", "/api/v2/instance")) == 1
        texts = [post.body["status"] for post in fake.calls("POST", "/api/v1/statuses")]
        assert len(texts) == 2
        assert all(500 < mastodon_length(text) <= 1000 for text in texts)
        assert "…" not in texts[0]


def test_an_instance_without_v2_gives_its_limit_through_v1(settings, lead):
    with FakeMastodon(max_characters=300, instance_v2=False) as fake:
        settings.MASTODON_CONFIGURED, settings.MASTODON_API_BASE_URL = True, fake.url
        settings.MASTODON_ACCESS_TOKEN = TOKEN
        send_due(scheduled_message(lead, channels=["mastodon"], explain="Payments fail. " * 40))

        assert len(fake.calls("GET", "/api/v1/instance")) == 1
        [text] = [post.body["status"] for post in fake.calls("POST", "/api/v1/statuses")]
        assert mastodon_length(text) <= 300 and "…" in text


def test_a_429_is_retried_at_the_reset_time_the_instance_gives(mastodon, lead):
    reset = datetime.now(UTC) + timedelta(minutes=5)
    mastodon.fail_next("/api/v1/statuses", 429, body={"error": "Too many requests"},
                       headers={"X-RateLimit-Reset": reset.isoformat().replace("+00:00", "Z"),
                                "X-RateLimit-Remaining": "0"})
    scheduled_message(lead, channels=["mastodon"])

    outcome = send_due()

    assert outcome.sent == 0 and outcome.retry_in >= 280
    row = Delivery.objects.get()
    assert row.status == DeliveryStatus.QUEUED and row.last_error == "Mastodon rate limit reached (429)"
    assert abs(row.next_attempt_at.timestamp() - reset.timestamp()) < 10
    make_due()
    assert send_due().sent == 1
    assert len(mastodon.posted) == 1


def test_a_refused_token_is_a_permanent_failure_that_names_the_variable(mastodon, settings, lead):
    settings.MASTODON_ACCESS_TOKEN = "revoked"
    scheduled_message(lead, channels=["mastodon"])

    outcome = send_due()

    assert outcome.failed == 1
    row = Delivery.objects.get()
    assert row.status == DeliveryStatus.FAILED and "(401)" in row.last_error
    assert "MASTODON_ACCESS_TOKEN" in row.last_error
    assert mastodon.posted == []


def test_a_duplicate_refused_with_422_is_permanent_and_not_retried(mastodon, lead):
    mastodon.fail_next("/api/v1/statuses", 422, body={"error": "Validation failed: Text has already been posted"})
    scheduled_message(lead, channels=["mastodon"])

    outcome = send_due()

    assert outcome.failed == 1 and outcome.retry_ids == []
    row = Delivery.objects.get()
    assert row.status == DeliveryStatus.FAILED
    assert row.last_error == "Mastodon refused to post (422): Validation failed: Text has already been posted"


def test_an_outage_then_recovery_posts_every_update_exactly_once(mastodon, lead):
    mastodon.fail_next("/api/v1/statuses", 503, times=2, body={"error": "Service Unavailable"})
    scheduled_message(lead, channels=["mastodon"])

    social_helpers.assert_two_failures_then_one_post("mastodon", "Mastodon server error (503)")

    assert len(mastodon.calls("POST", "/api/v1/statuses")) == 3
    assert len(mastodon.posted) == 1


def test_a_send_repeated_after_its_answer_was_lost_reuses_the_idempotency_key_and_posts_once(mastodon, lead):
    scheduled_message(lead, channels=["mastodon"])
    send_due()
    # The status was made, but suppose the answer never arrived: the row goes back to the queue.
    Delivery.objects.update(status=DeliveryStatus.QUEUED, external_id="", next_attempt_at=None)

    assert send_due().sent == 1

    posts = mastodon.calls("POST", "/api/v1/statuses")
    assert len(posts) == 2 and posts[0].headers["idempotency-key"] == posts[1].headers["idempotency-key"]
    assert len(mastodon.posted) == 1
    assert Delivery.objects.get().external_id == mastodon.posted[0]["id"]


def test_without_configuration_nothing_is_sent_and_the_reason_names_the_variables(settings, lead):
    settings.MASTODON_CONFIGURED = False
    social_helpers.assert_unconfigured_channel_fails_its_row(
        "mastodon", lead, "Mastodon is not configured: set MASTODON_API_BASE_URL and MASTODON_ACCESS_TOKEN.")


def test_an_instance_url_the_outbound_guard_refuses_fails_permanently_without_a_request(mastodon, settings, lead):
    settings.OUTBOUND_ALLOWED_HOSTS = []  # 127.0.0.1 is a loopback address: refused unless allowed by name
    social_helpers.assert_refused_by_the_outbound_guard(
        mastodon, "mastodon", lead, "EARS does not send to MASTODON_API_BASE_URL: 127.0.0.1 is a loopback")


def test_mastodon_counts_graphemes_and_every_url_as_23():
    assert mastodon_length("Down 👩‍👩‍👧 https://status.example.com/a/very/long/path/indeed") == 5 + 1 + 1 + 23
    assert mastodon_length("café") == 4  # e + combining acute is one character


def test_the_preview_shows_the_post_and_lint_warns_when_it_is_over_the_limit(mastodon, lead):
    message = scheduled_message(lead, channels=["mastodon"], explain="Payments fail at checkout. " * 30)

    preview = render_all(message).as_dict()["mastodon"]
    warnings = [warning for warning in lint_message(message) if warning.code == "mastodon_length"]

    assert preview["limit"] == 500 and preview["length"] <= 500 and preview["text"].endswith(STATUS_PAGE)
    assert len(warnings) == 1 and "of 500 characters" in warnings[0].message


def test_the_preview_leaves_mastodon_out_when_it_is_not_configured(settings, lead):
    settings.MASTODON_CONFIGURED = False
    assert "mastodon" not in render_all(scheduled_message(lead, channels=["email"])).as_dict()


def test_half_configured_mastodon_stops_startup_naming_the_missing_variable(tmp_path):
    result = manage_check(tmp_path, MASTODON_API_BASE_URL="https://mastodon.example")
    assert result.returncode != 0
    assert "MASTODON_ACCESS_TOKEN must be set: Mastodon needs all of" in result.stderr


def test_a_visibility_other_than_public_or_unlisted_stops_startup(tmp_path):
    result = manage_check(tmp_path, MASTODON_VISIBILITY="direct")
    assert result.returncode != 0
    assert "MASTODON_VISIBILITY must be public or unlisted, got 'direct'." in result.stderr


def test_the_draft_preview_api_and_the_composer_show_the_mastodon_post(mastodon, api_as, client, support):
    incident = IncidentFactory(title="Checkout errors")
    response = api_as(support).post(
        "/api/v1/messages/preview/",
        {"incident": incident.pk, "headline": "Checkout is failing", "channels": ["mastodon"]}, format="json")

    assert response.status_code == 200
    post = response.json()["mastodon"]
    assert post["text"] == f"Checkout is failing {STATUS_PAGE}" and post["limit"] == 500
    assert post["length"] == len("Checkout is failing ") + 23
    client.force_login(support)
    page = client.get(reverse("message-create", args=[incident.pk])).content.decode()
    assert 'data-preview="mastodon-pane"' in page and 'data-preview="mastodon-text"' in page
