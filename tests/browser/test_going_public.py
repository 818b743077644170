"""A lead takes a security incident from internal to public and resolved, and the status page follows each step."""

import pytest
from playwright.sync_api import expect

from comms.models import Message
from incidents.models import Incident
from tests.browser.conftest import sign_in
from tests.factories import ComponentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "Suspicious sign-in attempts"


@pytest.fixture
def eager_celery(settings):
    """No worker in this test: dispatch and sending run in the web request."""
    settings.CELERY_TASK_ALWAYS_EAGER = True


def status_page_text(browser, base_url) -> str:
    visitor = browser.new_page()
    visitor.goto(f"{base_url}/status/")
    text = visitor.locator("main").inner_text()
    visitor.close()
    return text


def test_a_lead_takes_a_security_incident_from_internal_to_public_to_resolved(
        browser, live_server, lead, eager_celery, default_data):
    ComponentFactory(name="Web dashboard")
    page = browser.new_page()
    sign_in(page, live_server.url, "lead")

    # 1. Opened as a security incident: internal, and nothing on the status page.
    page.get_by_role("link", name="Open an incident").click()
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Kind").select_option("security")
    page.get_by_label("Web dashboard").check()
    page.get_by_role("button", name="Open incident").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.get_by_text("Nothing about this incident is on the status page")).to_be_visible()
    assert TITLE not in status_page_text(browser, live_server.url)

    # 2. The pre-approved acknowledgement, published by the lead: the incident is public with it.
    page.get_by_role("link", name="Write an update").click()
    page.get_by_label("Start from a template").select_option(label="Initial acknowledgement: Initial acknowledgement "
                                                                   "(pre-approved)")
    page.get_by_role("button", name="Use template").click()
    page.get_by_role("button", name="Publish now").click()
    expect(page.get_by_role("status").first).to_contain_text("Published")
    incident = Incident.objects.get(title=TITLE)
    assert incident.is_public
    public = status_page_text(browser, live_server.url)
    assert TITLE in public and "We are investigating a problem with Web dashboard" in public

    # 3. Resolved, after a confirmation; the page then offers the resolution message.
    page.goto(f"{live_server.url}{incident.get_absolute_url()}")
    page.get_by_role("button", name="Mark resolved").click()
    page.get_by_role("button", name="Resolve the incident").click()
    expect(page.get_by_role("status").first).to_have_text("Status is now resolved.")
    assert "Resolved" in status_page_text(browser, live_server.url)

    page.get_by_role("link", name="Write the resolution message").click()
    expect(page.get_by_text("Resolve & compensate: replace the guidance")).to_be_visible()
    explain = page.get_by_label("Explain")
    explain.fill("Some customers were asked to sign in again after an unusual number of failed sign-ins.")
    page.get_by_label("Resolve & compensate").fill("We blocked the attempts; no account was accessed.")
    page.get_by_label("Study").fill("We are adding rate limits per network. Thank you for your patience.")
    page.get_by_role("button", name="Save draft").click()
    resolution = Message.objects.get(incident=incident, phase="resolution")
    page.goto(f"{live_server.url}{resolution.get_absolute_url()}")
    page.get_by_role("button", name="Submit for approval").click()
    page.get_by_role("button", name="Approve").click()  # SEV3: four eyes apply only to SEV1 and SEV2
    page.get_by_role("button", name="Publish now").click()
    expect(page.get_by_role("status").first).to_contain_text("Published")

    public = status_page_text(browser, live_server.url)
    assert "We blocked the attempts; no account was accessed." in public
    assert "[[" not in public and "Describe any service credit" not in public
