"""The public status page's uptime bars and component groups, by keyboard and on a phone: a day with something to
say is a tab stop whose text shows (and is in the accessibility tree) on focus, quiet days are not tab stops, and a
group opens and closes from the keyboard. The history is built as tests/comms/test_status_page_groups_and_uptime.py
builds it: status changes and a public incident, yesterday."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents.models import ComponentGroup
from tests.browser.test_accessibility import BLOCKING, PHONE, check, describe
from tests.comms.test_status_page_groups_and_uptime import incident_on, outage_yesterday
from tests.factories import ComponentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

INCIDENT = "Slow API responses"
OUTAGE_TEXT = "major outage, 60 minutes down. Incidents: Slow API responses."
FOCUSED_DAY = "document.activeElement.matches('li.day') ? document.activeElement.textContent : null"


@pytest.fixture
def history():
    """EU region (API and Payments) and Mobile app, all 120 days old; API was down for an hour yesterday, in a
    public incident resolved when it came back. Everything else was operational throughout."""
    created = timezone.now() - timedelta(days=120)
    group = ComponentGroup.objects.create(name="EU region", position=1)
    api = ComponentFactory(name="API", group=group, display_order=1, created_at=created)
    ComponentFactory(name="Payments", group=group, display_order=2, created_at=created)
    ComponentFactory(name="Mobile app", display_order=5, created_at=created)
    start = timezone.now().replace(hour=10, minute=0, second=0, microsecond=0) - timedelta(days=1)
    incident = incident_on(api, title=INCIDENT, started_at=start, status="resolved",
                           resolved_at=start + timedelta(minutes=60))
    outage_yesterday(api, incident)
    return group


def tab_through_days(page, limit: int = 60) -> list[str]:
    """Tab from where the focus is to the end of the page (where it leaves the document for the browser's own
    controls): the text of each uptime day that took the focus, in order."""
    days = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement === document.body"):
            return days
        text = page.evaluate(FOCUSED_DAY)
        if text is not None:
            days.append(text)
    raise AssertionError(f"still tabbing after {limit} stops")


def label_width(page, day) -> float:
    return day.locator(".day-label").bounding_box()["width"]


def test_a_day_with_an_outage_is_a_tab_stop_whose_text_shows_on_focus(page, live_server, history):
    page.goto(f"{live_server.url}/status/")
    group_days = page.get_by_role("list", name="EU region: each of the last 90 days").get_by_role("listitem")
    yesterday = group_days.filter(has_text=OUTAGE_TEXT)
    assert label_width(page, yesterday) <= 1  # read by screen readers, out of sight until hovered or focused

    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate(FOCUSED_DAY):
            break

    expect(yesterday).to_be_focused()
    expect(yesterday).to_contain_text(OUTAGE_TEXT)
    assert label_width(page, yesterday) > 100
    label_box = yesterday.locator(".day-label").bounding_box()
    assert 0 <= label_box["x"] and label_box["x"] + label_box["width"] <= 1280  # the last days' text opens leftwards
    assert OUTAGE_TEXT in yesterday.aria_snapshot()  # in the accessibility tree, so announced with the focus


def test_only_the_days_with_something_to_say_are_tab_stops_in_groups_and_components(page, live_server, history):
    page.goto(f"{live_server.url}/status/")
    page.get_by_text("EU region").click()  # opened: API's and Payments' bars are on the page too, after its summary
    expect(page.locator("summary")).to_be_focused()
    assert page.locator("li.day").count() < 4 * 90  # quiet days in a row are one bar of their width

    focused = tab_through_days(page)

    assert len(focused) == 2, focused  # the group's yesterday, then API's; none of the 358 operational days
    assert all(OUTAGE_TEXT in text for text in focused)


def test_a_group_opens_and_closes_from_the_keyboard(page, live_server, history):
    page.goto(f"{live_server.url}/status/")
    summary = page.locator(f"#group-{history.pk} summary")
    members = page.get_by_role("list", name="API: each of the last 90 days")
    expect(members).to_be_hidden()

    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName") == "SUMMARY":
            break
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("EU region")

    page.keyboard.press("Enter")
    expect(members).to_be_visible()
    expect(page.locator(f"#group-{history.pk} details")).to_have_attribute("open", "")
    page.keyboard.press("Space")
    expect(members).to_be_hidden()
    page.keyboard.press("Enter")
    expect(members).to_be_visible()


def test_the_status_page_with_its_bars_has_no_serious_violations_and_fits_a_phone(browser, live_server, axe, history):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        problems = check(page, axe, "status page with uptime history", f"{live_server.url}/status/")
        # Opened, with a day's text showing at the phone's width: still nothing serious, still no sideways scroll.
        page.get_by_text("EU region").click()
        api_days = page.get_by_role("list", name="API: each of the last 90 days").get_by_role("listitem")
        api_yesterday = api_days.filter(has_text=OUTAGE_TEXT)
        api_yesterday.focus()
        expect(api_yesterday.locator(".day-label")).to_contain_text(OUTAGE_TEXT)
        assert label_width(page, api_yesterday) > 100
        violations = [v for v in axe.run(page).response["violations"] if v["impact"] in BLOCKING]
        problems += [describe(violation) for violation in violations]
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > PHONE["width"]:
            problems.append(f"with a day's text showing, the page is {scroll_width} px wide at 390 px")
    finally:
        context.close()
    assert not problems, "Problems on the status page:\n" + "\n".join(problems)
