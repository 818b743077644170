"""The LinkedIn organization page channel against a local fake REST API (tests/fakes/linkedin.py): what crossed
it, how many times."""

import pytest

from comms import delivery
from comms.choices import DeliveryStatus, MessageState
from comms.lint import lint_message
from comms.models import Delivery
from comms.rendering import LINKEDIN_LIMIT, linkedin_commentary, linkedin_length, render_all
from tests.comms import social_helpers
from tests.comms.helpers import scheduled_message
from tests.comms.social_helpers import STATUS_PAGE, make_due
from tests.fakes.linkedin import ORGANIZATION, ORGANIZATION_ID, TOKEN, FakeLinkedIn
from tests.fakes.linkedin import error as linkedin_error
from tests.test_settings import manage_check

pytestmark = pytest.mark.django_db


@pytest.fixture
def linkedin(settings):
    with FakeLinkedIn() as api:
        settings.LINKEDIN_CONFIGURED = True
        settings.LINKEDIN_API_URL = api.url
        settings.LINKEDIN_ORGANIZATION_ID = ORGANIZATION_ID
        settings.LINKEDIN_ACCESS_TOKEN = TOKEN
        settings.LINKEDIN_API_VERSION = "202411"
        yield api


def send_due(message=None) -> delivery.BatchOutcome:
    return social_helpers.send_due("linkedin", message)


def test_an_approved_message_is_posted_as_the_organization_once_and_its_urn_recorded(linkedin, lead):
    message = scheduled_message(lead, channels=["linkedin"], acknowledge="We are sorry (truly) for the disruption.")

    outcome = send_due()

    assert outcome.sent == 1
    [posted] = linkedin.calls("POST", "/rest/posts")
    assert posted.headers["authorization"] == f"Bearer {TOKEN}"
    assert (posted.headers["linkedin-version"], posted.headers["x-restli-protocol-version"]) == ("202411", "2.0.0")
    assert posted.body == {
        "author": ORGANIZATION,
        "commentary": "Checkout is failing for some customers\n\nPayments fail at checkout; we are working on it.\n\n"
                      "We are sorry \\(truly\\) for the disruption.\n\nhttp://127.0.0.1:8000/status/",
        "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
    }
    row = Delivery.objects.get()
    assert (row.status, row.external_id) == (DeliveryStatus.SENT, linkedin.posted[0]["urn"])
    assert row.external_id.startswith("urn:li:share:")
    message.refresh_from_db()
    assert message.state == MessageState.SENT


def test_reserved_characters_are_escaped_so_linkedin_does_not_read_them_as_markup():
    assert linkedin_commentary("Fixed (at last) @team #status [ok] 50% *now* ~soon_ \\ |x| {y} <z>") == (
        "Fixed \\(at last\\) \\@team \\#status \\[ok\\] 50% \\*now\\* \\~soon\\_ \\\\ \\|x\\| \\{y\\} \\<z\\>")


def test_a_429_is_retried_after_retry_after_and_then_posted_once(linkedin, lead):
    linkedin.fail_next("/rest/posts", 429, headers={"Retry-After": "300"},
                       body=linkedin_error(429, "Resource level throttle limit for calls to this resource is reached."))
    scheduled_message(lead, channels=["linkedin"])

    outcome = send_due()

    assert outcome.sent == 0 and outcome.retry_in >= 300
    row = Delivery.objects.get()
    assert row.status == DeliveryStatus.QUEUED and row.last_error == "LinkedIn rate limit reached (429)"
    make_due()
    assert send_due().sent == 1
    assert len(linkedin.posted) == 1


def test_a_refused_token_is_a_permanent_failure_that_names_the_variable(linkedin, settings, lead):
    settings.LINKEDIN_ACCESS_TOKEN = "expired"
    scheduled_message(lead, channels=["linkedin"])

    outcome = send_due()

    assert outcome.failed == 1 and outcome.retry_ids == []
    row = Delivery.objects.get()
    assert row.status == DeliveryStatus.FAILED and row.last_error.startswith(
        "LinkedIn refused the access token (401): Invalid access token.")
    assert "LINKEDIN_ACCESS_TOKEN" in row.last_error
    assert linkedin.posted == []


def test_posting_for_an_organization_the_token_may_not_post_for_is_permanent_and_names_the_permission(
        linkedin, settings, lead):
    settings.LINKEDIN_ORGANIZATION_ID = "999"
    scheduled_message(lead, channels=["linkedin"])

    send_due()

    row = Delivery.objects.get()
    assert row.status == DeliveryStatus.FAILED and "(403)" in row.last_error
    assert "w_organization_social" in row.last_error


def test_a_duplicate_post_is_permanent_and_not_retried(linkedin, lead):
    scheduled_message(lead, channels=["linkedin"])
    send_due()
    scheduled_message(lead, channels=["linkedin"])  # the very same text again

    outcome = send_due()

    assert outcome.failed == 1 and outcome.retry_ids == []
    failed = Delivery.objects.get(status=DeliveryStatus.FAILED)
    assert failed.last_error == (
        f"LinkedIn refused a duplicate post (422): Content is a duplicate of {linkedin.posted[0]['urn']}")
    assert len(linkedin.posted) == 1


def test_an_outage_then_recovery_posts_every_update_exactly_once(linkedin, lead):
    linkedin.fail_next("/rest/posts", 502, times=2, body=linkedin_error(502, "Bad Gateway"))
    scheduled_message(lead, channels=["linkedin"])

    social_helpers.assert_two_failures_then_one_post("linkedin", "LinkedIn server error (502)")

    assert len(linkedin.calls("POST", "/rest/posts")) == 3
    assert len(linkedin.posted) == 1


def test_without_configuration_nothing_is_sent_and_the_reason_names_the_variables(settings, lead):
    settings.LINKEDIN_CONFIGURED = False
    social_helpers.assert_unconfigured_channel_fails_its_row(
        "linkedin", lead, "LinkedIn is not configured: set LINKEDIN_ORGANIZATION_ID and LINKEDIN_ACCESS_TOKEN.")


def test_an_api_url_the_outbound_guard_refuses_fails_permanently_without_a_request(linkedin, settings, lead):
    settings.OUTBOUND_ALLOWED_HOSTS = []
    social_helpers.assert_refused_by_the_outbound_guard(
        linkedin, "linkedin", lead, "EARS does not send to LINKEDIN_API_URL: 127.0.0.1 is a loopback")


def test_a_long_message_is_cut_to_3000_characters_as_stored_and_lint_warns(linkedin, lead):
    message = scheduled_message(lead, channels=["linkedin"], explain="Payments (card) fail at checkout. " * 120)

    preview = render_all(message).as_dict()["linkedin"]
    warnings = [w for w in lint_message(message) if w.code == "linkedin_length"]
    send_due()

    assert preview["limit"] == LINKEDIN_LIMIT and preview["text"].endswith(STATUS_PAGE) and "…" in preview["text"]
    assert 2900 < preview["length"] == linkedin_length(preview["text"]) <= LINKEDIN_LIMIT
    assert len(warnings) == 1 and "of 3000 characters" in warnings[0].message
    [posted] = linkedin.calls("POST", "/rest/posts")
    assert len(posted.body["commentary"]) <= LINKEDIN_LIMIT
    assert Delivery.objects.get().status == DeliveryStatus.SENT


def test_the_preview_leaves_linkedin_out_when_it_is_not_configured(settings, lead):
    settings.LINKEDIN_CONFIGURED = False
    assert "linkedin" not in render_all(scheduled_message(lead, channels=["email"])).as_dict()


def test_half_configured_linkedin_stops_startup_naming_the_missing_variable(tmp_path):
    result = manage_check(tmp_path, LINKEDIN_ACCESS_TOKEN="token")
    assert result.returncode != 0
    assert "LINKEDIN_ORGANIZATION_ID must be set: LinkedIn needs all of" in result.stderr


def test_a_linkedin_version_that_is_not_a_month_stops_startup(tmp_path):
    result = manage_check(tmp_path, LINKEDIN_API_VERSION="2024-11")
    assert result.returncode != 0
    assert "LINKEDIN_API_VERSION must be a month as YYYYMM, e.g. 202411, got '2024-11'." in result.stderr
