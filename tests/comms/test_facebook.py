"""The Facebook page channel against a local fake Graph API (tests/fakes/facebook.py): what crossed it, how many
times."""

import pytest

from comms import delivery
from comms.channels.facebook import usage_wait_seconds
from comms.choices import DeliveryStatus, MessageState
from comms.lint import lint_message
from comms.models import Delivery
from comms.rendering import FACEBOOK_LIMIT, render_all
from tests.comms import social_helpers
from tests.comms.helpers import scheduled_message
from tests.comms.social_helpers import STATUS_PAGE, make_due
from tests.fakes.facebook import PAGE_ID, TOKEN, FakeFacebook, graph_error, rate_limited
from tests.test_settings import manage_check

pytestmark = pytest.mark.django_db


@pytest.fixture
def facebook(settings):
    with FakeFacebook() as graph:
        settings.FACEBOOK_CONFIGURED = True
        settings.FACEBOOK_GRAPH_URL = graph.url
        settings.FACEBOOK_PAGE_ID = PAGE_ID
        settings.FACEBOOK_PAGE_TOKEN = TOKEN
        yield graph


def send_due(message=None) -> delivery.BatchOutcome:
    return social_helpers.send_due("facebook", message)


def test_an_approved_message_is_posted_to_the_page_once_with_the_whole_text_and_the_status_page_link(facebook, lead):
    message = scheduled_message(lead, channels=["facebook"])

    outcome = send_due()

    assert outcome.sent == 1
    [posted] = facebook.calls("POST", f"/v21.0/{PAGE_ID}/feed")
    assert posted.headers["authorization"] == f"Bearer {TOKEN}"
    assert "access_token" not in posted.body and "access_token" not in posted.query
    assert posted.body["link"] == STATUS_PAGE
    assert posted.body["message"] == (
        "Checkout is failing for some customers\n\nPayments fail at checkout; we are working on it.\n\n"
        f"We are sorry for the disruption.\n\n{STATUS_PAGE}")
    row = Delivery.objects.get()
    assert (row.status, row.external_id) == (DeliveryStatus.SENT, facebook.posted[0]["id"])
    assert row.external_id.startswith(f"{PAGE_ID}_")
    message.refresh_from_db()
    assert message.state == MessageState.SENT


def test_a_rate_limit_is_retried_after_the_wait_the_usage_header_gives(facebook, lead):
    facebook.fail_next(f"/v21.0/{PAGE_ID}/feed", **rate_limited(minutes=7))
    scheduled_message(lead, channels=["facebook"])

    outcome = send_due()

    assert outcome.sent == 0 and outcome.retry_in >= 7 * 60
    row = Delivery.objects.get()
    assert row.status == DeliveryStatus.QUEUED and row.last_error == "Facebook rate limit reached (code 80001)"
    make_due()
    assert send_due().sent == 1
    assert len(facebook.posted) == 1


@pytest.mark.parametrize("code", [4, 17, 32, 613])
def test_the_application_and_page_rate_limit_codes_are_transient_even_without_a_usage_header(facebook, lead, code):
    facebook.fail_next(f"/v21.0/{PAGE_ID}/feed", 400, body=graph_error(code, "(#4) Application request limit reached"))
    scheduled_message(lead, channels=["facebook"])

    outcome = send_due()

    assert outcome.retry_ids and outcome.failed == 0
    assert Delivery.objects.get().last_error == f"Facebook rate limit reached (code {code})"


def test_the_usage_headers_are_read_for_the_longest_wait_and_ignored_when_malformed():
    assert usage_wait_seconds({"X-Business-Use-Case-Usage": '{"1": [{"estimated_time_to_regain_access": 3}], '
                                                            '"2": [{"estimated_time_to_regain_access": 10}]}'}) == 600
    assert usage_wait_seconds({"X-App-Usage": '{"call_count": 100, "total_time": 20, "total_cputime": 20}'}) is None
    assert usage_wait_seconds({"X-Business-Use-Case-Usage": "not json"}) is None
    assert usage_wait_seconds({"X-Business-Use-Case-Usage": '{"1": [{"estimated_time_to_regain_access": true}]}'}) \
        is None
    assert usage_wait_seconds({}) is None


def test_a_token_facebook_refuses_is_a_permanent_failure_that_names_the_variable(facebook, settings, lead):
    settings.FACEBOOK_PAGE_TOKEN = "expired"
    scheduled_message(lead, channels=["facebook"])

    outcome = send_due()

    assert outcome.failed == 1 and outcome.retry_ids == []
    row = Delivery.objects.get()
    assert row.status == DeliveryStatus.FAILED
    assert row.last_error.startswith("Facebook refused the page token (code 190)")
    assert "FACEBOOK_PAGE_TOKEN" in row.last_error
    assert facebook.posted == []


def test_a_missing_permission_is_permanent_and_names_the_permission(facebook, lead):
    facebook.fail_next(f"/v21.0/{PAGE_ID}/feed", 403, body=graph_error(
        200, "(#200) The user hasn't authorized the application to perform this action"))
    scheduled_message(lead, channels=["facebook"])

    outcome = send_due()

    assert outcome.failed == 1
    row = Delivery.objects.get()
    assert row.status == DeliveryStatus.FAILED and "(code 200)" in row.last_error
    assert "pages_manage_posts" in row.last_error


def test_a_duplicate_post_is_permanent_and_not_retried(facebook, lead):
    scheduled_message(lead, channels=["facebook"])
    send_due()
    scheduled_message(lead, channels=["facebook"])  # the very same text again

    outcome = send_due()

    assert outcome.failed == 1 and outcome.retry_ids == []
    failed = Delivery.objects.get(status=DeliveryStatus.FAILED)
    assert failed.last_error == "Facebook refused a duplicate post (code 506): Duplicate status message"
    assert len(facebook.posted) == 1


def test_an_outage_then_recovery_posts_every_update_exactly_once(facebook, lead):
    facebook.fail_next(f"/v21.0/{PAGE_ID}/feed", 503, times=2, body={})
    scheduled_message(lead, channels=["facebook"])

    social_helpers.assert_two_failures_then_one_post("facebook", "Facebook server error (503)")

    assert len(facebook.calls("POST", f"/v21.0/{PAGE_ID}/feed")) == 3
    assert len(facebook.posted) == 1


def test_an_unreachable_graph_api_is_transient_and_holds_the_batch(facebook, settings, lead):
    settings.FACEBOOK_GRAPH_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    scheduled_message(lead, channels=["facebook"])

    outcome = send_due()

    assert outcome.retry_ids and outcome.failed == 0
    assert Delivery.objects.get().last_error.startswith("Facebook could not be reached")


def test_without_configuration_nothing_is_sent_and_the_reason_names_the_variables(settings, lead):
    settings.FACEBOOK_CONFIGURED = False
    social_helpers.assert_unconfigured_channel_fails_its_row(
        "facebook", lead, "Facebook is not configured: set FACEBOOK_PAGE_ID and FACEBOOK_PAGE_TOKEN.")


def test_a_graph_url_the_outbound_guard_refuses_fails_permanently_without_a_request(facebook, settings, lead):
    settings.OUTBOUND_ALLOWED_HOSTS = []  # 127.0.0.1 is a loopback address: refused unless allowed by name
    social_helpers.assert_refused_by_the_outbound_guard(
        facebook, "facebook", lead, "EARS does not send to FACEBOOK_GRAPH_URL: 127.0.0.1 is a loopback")


def test_the_preview_shows_the_page_post_and_lint_warns_only_past_the_limit(facebook, lead):
    message = scheduled_message(lead, channels=["facebook"], explain="Payments fail at checkout. " * 30)
    preview = render_all(message).as_dict()["facebook"]
    assert preview["limit"] == FACEBOOK_LIMIT and preview["text"].endswith(STATUS_PAGE)
    assert [w for w in lint_message(message) if w.code == "facebook_length"] == []

    huge = scheduled_message(lead, channels=["facebook"], explain="Payments fail at checkout. " * 2500)
    preview = render_all(huge).as_dict()["facebook"]
    warnings = [w for w in lint_message(huge) if w.code == "facebook_length"]
    assert preview["length"] <= FACEBOOK_LIMIT and "…" in preview["text"] and preview["text"].endswith(STATUS_PAGE)
    assert len(warnings) == 1 and "of 63206 characters" in warnings[0].message


def test_the_preview_leaves_facebook_out_when_it_is_not_configured(settings, lead):
    settings.FACEBOOK_CONFIGURED = False
    assert "facebook" not in render_all(scheduled_message(lead, channels=["email"])).as_dict()


def test_half_configured_facebook_stops_startup_naming_the_missing_variable(tmp_path):
    result = manage_check(tmp_path, FACEBOOK_PAGE_ID="104000000000001")
    assert result.returncode != 0
    assert "FACEBOOK_PAGE_TOKEN must be set: Facebook needs all of" in result.stderr
