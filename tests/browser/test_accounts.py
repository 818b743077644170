"""An account manager takes the top affected account of an incident from identified to closed, with a follow-up
and a service credit approved (under the approval limit, so by its owner)."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Compensation, FollowUp, Impact
from tests.browser.conftest import sign_in
from tests.factories import AccountFactory, ContactFactory, ImpactFactory, IncidentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_takes_the_top_affected_account_from_identified_to_closed(page, live_server, manager, settings):
    settings.COMPENSATION_APPROVAL_LIMIT = 5000
    incident = IncidentFactory(title="Checkout down", severity="SEV1",
                               started_at=timezone.now() - timezone.timedelta(hours=2))
    top = ImpactFactory(incident=incident, level="critical", downtime_minutes=120, sla_breached=True,
                        account=AccountFactory(name="Northwind", tier="strategic", arr=240_000, owner=manager))
    ImpactFactory(incident=incident, level="minor", downtime_minutes=5,
                  account=AccountFactory(name="Tiny Blog", tier="self_serve", arr=600, owner=manager))
    ContactFactory(account=top.account, name="Lena Okafor", email="lena@northwind.example", is_primary=True)

    sign_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}{incident.get_absolute_url()}")
    rows = page.locator("table.top-impacts tbody tr")
    expect(rows.first).to_contain_text("Northwind")  # ranked first by score
    expect(rows.nth(1)).to_contain_text("Tiny Blog")
    rows.first.get_by_role("link", name="Open impact").click()
    expect(page.locator("h1")).to_contain_text("Northwind")

    # identified → contacted
    page.get_by_label("Note for the timeline (optional)").fill("Emailed Lena, their CTO")
    page.get_by_role("button", name="Move to contacted").click()
    expect(page.get_by_role("status").first).to_contain_text("contacted")

    # a follow-up call, due in an hour
    page.get_by_text("Plan a follow-up", exact=True).click()
    page.get_by_label("Summary").fill("Call Lena about the service credit")
    due = timezone.localtime(timezone.now() + timezone.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("Due").fill(due)
    page.get_by_role("button", name="Add follow-up").click()
    expect(page.locator("li.follow-up").first).to_contain_text("Call Lena about the service credit")

    # closing now is refused, and the page says what is open
    page.get_by_role("button", name="Close").click()
    expect(page.get_by_role("alert").first).to_contain_text("Call Lena about the service credit")
    assert Impact.objects.get(pk=top.pk).state == "contacted"

    # the call happened
    page.get_by_text("Record the outcome", exact=True).click()
    page.get_by_label("Outcome").fill("Lena accepts a credit for this month")
    page.get_by_role("button", name="Mark done").click()
    expect(page.locator("li.follow-up.is-done")).to_contain_text("Lena accepts a credit")

    # contacted → compensation, with the SLA calculator's credit: 120 min of 43,200 is 99.72 % → 10 % of 20,000
    page.get_by_role("button", name="Move to compensation").click()
    expect(page.locator(".sla-suggestion")).to_contain_text("2,000.00 USD")
    page.get_by_text("Propose compensation", exact=True).click()
    expect(page.get_by_label("Amount")).to_have_value("2000.00")
    page.get_by_role("textbox", name="Reason", exact=True).fill("Two hours without checkout during their sale")
    page.get_by_role("button", name="Propose").click()
    credit = page.locator("table.compensations tbody tr").first
    expect(credit).to_contain_text("Proposed")

    for button, state in [("Approve", "Approved"), ("Mark offered", "Offered"), ("Mark accepted", "Accepted"),
                          ("Mark applied", "Applied")]:
        page.locator("table.compensations tbody tr").first.get_by_role("button", name=button).click()
        expect(page.locator("table.compensations tbody tr").first).to_contain_text(state)

    # compensation → closed
    page.get_by_role("button", name="Close").click()
    expect(page.get_by_role("status").first).to_contain_text("closed")

    impact = Impact.objects.get(pk=top.pk)
    assert impact.state == "closed" and impact.closed_at is not None
    assert FollowUp.objects.get(impact=impact).outcome == "Lena accepts a credit for this month"
    credit = Compensation.objects.get(impact=impact)
    assert (credit.state, credit.amount, credit.approved_by) == ("applied", 2000, manager)
    assert list(impact.events.order_by("at", "pk").values_list("description", flat=True))[-1].startswith(
        "moved to closed")
