"""The public status page, rendered in the site's zone (UTC here), shows a visitor in New York their own time, and a
button switches the times to UTC and back; without JavaScript the site's times stay, with the zone named."""

import re
from datetime import UTC, datetime

import pytest

from tests.comms.helpers import open_public_incident

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STARTED = datetime(2026, 1, 15, 10, 55, tzinfo=UTC)


@pytest.fixture
def public_incident(lead):
    return open_public_incident(lead, title="Card payments failing", started_at=STARTED)


def test_a_visitor_in_new_york_sees_local_times_and_can_switch_them_to_utc(browser, live_server, public_incident):
    context = browser.new_context(timezone_id="America/New_York", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(f"{live_server.url}/status/")
        started = page.locator(f"#incident-{public_incident.pk} .meta time")
        toggle = page.get_by_role("button", name="Show times in UTC")

        assert started.text_content() == "15 Jan 2026, 05:55 EST"
        assert toggle.get_attribute("aria-pressed") == "false"
        assert "Times are shown in your time zone (America/New_York)." in page.locator("#time-zone-note").inner_text()

        toggle.click()
        assert started.text_content() == "15 Jan 2026, 10:55 UTC"
        assert toggle.get_attribute("aria-pressed") == "true"
        assert "Times are shown in UTC." in page.locator("#time-zone-note").inner_text()

        page.reload()  # the choice is remembered
        assert started.text_content() == "15 Jan 2026, 10:55 UTC"
        toggle.click()
        assert started.text_content() == "15 Jan 2026, 05:55 EST"
        assert page.evaluate("document.documentElement.scrollWidth") <= 391  # the button fits a phone
    finally:
        context.close()


def test_without_javascript_the_status_page_shows_the_sites_zone_and_names_it(browser, live_server, public_incident):
    context = browser.new_context(timezone_id="America/New_York", java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/status/")
        assert page.locator(f"#incident-{public_incident.pk} .meta time").text_content() == "15 Jan 2026, 10:55 UTC"
        assert page.locator("#time-zone-note").inner_text() == "Times are shown in UTC."
        assert page.get_by_role("button", name="Show times in UTC").count() == 0
    finally:
        context.close()


def test_a_signed_in_user_picks_new_york_on_the_profile_and_the_header_fits_a_phone(browser, live_server, lead):
    from tests.browser.conftest import sign_in

    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in(page, live_server.url, "lead")
        page.get_by_role("link", name="Profile").click()
        page.get_by_label("Time zone").select_option("America/New_York")
        page.get_by_role("button", name="Save").click()
        assert page.get_by_role("status").filter(has_text="Saved.").is_visible()
        assert page.get_by_text(re.compile(r"^Times are shown in America/New_York \(E[SD]T\)\.$")).is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 391
    finally:
        context.close()
