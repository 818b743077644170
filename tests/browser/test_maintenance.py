"""The maintenance flow in real Chromium: a lead writes a window through the navigation and the form and submits
it, another lead approves it, and the public status page lists it under upcoming maintenance; the pages have no
serious accessibility violation and fit a 390 px phone."""

import pytest
from django.utils import timezone

from incidents.models import Maintenance
from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import check
from tests.factories import ComponentFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def test_a_lead_plans_a_window_another_approves_it_and_it_shows_as_upcoming(browser, live_server, lead, axe):
    UserFactory(username="second-lead", role="Communications lead")
    ComponentFactory(name="Payments")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in(page, live_server.url, "lead")
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Maintenance").click()
        page.get_by_role("link", name="New maintenance window").click()
        start = timezone.localtime() + timezone.timedelta(days=2)
        page.get_by_label("Title").fill("Payments database upgrade")
        page.get_by_label("What").fill("We upgrade the payments database.")
        page.get_by_label("Customer impact").fill("Card payments pause for up to a minute.")
        page.get_by_label("Payments").check()
        page.get_by_label("Scheduled for").fill(start.strftime("%Y-%m-%dT%H:%M"))
        page.get_by_label("Scheduled until").fill((start + timezone.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
        page.get_by_role("button", name="Save maintenance window").click()
        page.get_by_role("button", name="Submit for approval").click()
        assert page.get_by_text("submitted for approval").first.is_visible()
        window = Maintenance.objects.get()
        problems = [*check(page, axe, "maintenance list", f"{live_server.url}/maintenance/"),
                    *check(page, axe, "maintenance page", f"{live_server.url}/maintenance/{window.pk}/"),
                    *check(page, axe, "maintenance form", f"{live_server.url}/maintenance/new/")]
        assert not problems, "\n".join(problems)

        page.goto(f"{live_server.url}/status/")
        assert page.get_by_text("Payments database upgrade").count() == 0  # not approved yet

        page.context.clear_cookies()
        sign_in(page, live_server.url, "second-lead")
        page.goto(f"{live_server.url}/maintenance/{window.pk}/")
        page.get_by_role("button", name="Approve and publish").click()
        assert page.get_by_text("Scheduled · Approved · shown on the status page").is_visible()

        page.goto(f"{live_server.url}/status/")
        upcoming = page.get_by_role("region", name="Upcoming maintenance")
        assert upcoming.get_by_role("heading", name="Payments database upgrade").is_visible()
        assert upcoming.get_by_text("Card payments pause for up to a minute.").is_visible()
    finally:
        context.close()
