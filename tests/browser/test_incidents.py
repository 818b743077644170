import pytest
from playwright.sync_api import expect

from incidents.models import Incident
from tests.browser.conftest import sign_in
from tests.factories import ComponentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_communications_lead_opens_an_incident_and_sees_it_on_the_dashboard(page, live_server, lead):
    ComponentFactory(name="Payments")
    sign_in(page, live_server.url, "lead")

    page.get_by_role("link", name="Open an incident").click()
    page.get_by_label("Title").fill("Card payments failing in the EU")
    page.get_by_label("Severity").select_option("SEV1")
    page.get_by_label("Payments").check()
    page.get_by_role("button", name="Open incident").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Card payments failing in the EU")
    expect(page.get_by_text("Incident opened as SEV1, investigating, affecting Payments")).to_be_visible()

    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("1 open incident")
    expect(page.get_by_role("link", name="Card payments failing in the EU")).to_be_visible()

    page.get_by_role("link", name="Card payments failing in the EU").click()
    page.get_by_role("button", name="Mark resolved").click()
    page.get_by_role("button", name="Resolve the incident").click()
    expect(page.get_by_role("status").first).to_have_text("Status is now resolved.")
    assert Incident.objects.get().status == "resolved"


def test_support_sees_no_create_button_and_the_server_refuses_their_post(page, live_server, support):
    sign_in(page, live_server.url, "support")
    expect(page.get_by_text("Support", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Open an incident")).to_have_count(0)

    # Post the create form anyway, with a valid CSRF token, so that only the role can refuse it.
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        f"{live_server.url}/incidents/new/",
        form={"title": "Sneaky", "severity": "SEV1", "kind": "service", "status": "investigating",
              "csrfmiddlewaretoken": csrf},
        headers={"Referer": f"{live_server.url}/incidents/new/"},
    )
    assert response.status == 403
    assert "Your role does not allow this" in response.text()
    assert not Incident.objects.filter(title="Sneaky").exists()
