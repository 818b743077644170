"""The pages work under their Content-Security-Policy: every main page is served with it and Chromium reports no
violation on any of them (an inline script, handler or style the policy refused would be one)."""

import pytest
from django.utils import timezone

from comms import messaging
from incidents import services as incident_services
from sentiment.models import Mention, XSearch
from tests.browser.conftest import sign_in
from tests.factories import AccountFactory, ComponentFactory, ImpactFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(lead, support, manager, default_data):
    payments = ComponentFactory(name="Payments")
    incident = incident_services.create_incident(
        actor=lead, title="Card payments failing", severity="SEV2", components=[payments],
        impact_summary="Some card payments fail at checkout.",
    )
    incident_services.show_on_status_page(incident, actor=lead)
    message = messaging.create_message(
        incident=incident, author=support, headline="We are investigating failing card payments",
        explain="Some card payments fail at checkout.", acknowledge="We are sorry.",
        resolve="We will update you within the hour.", study="We will share what we learn.",
    )
    messaging.submit(message, actor=support)
    account = AccountFactory(name="Northwind", owner=manager)
    impact = ImpactFactory(incident=incident, account=account)
    now = timezone.now()
    mention = Mention.objects.create(
        source="x", external_id="post-1", author_handle="customer", text="Checkout keeps failing for me",
        posted_at=now, compound=-0.8, neg=0.5, neu=0.5, pos=0.0, label="negative", flagged=True,
        flag_reasons=["Very negative: compound -0.80 ≤ -0.50"], scored_at=now, incident=incident,
    )
    XSearch.objects.create(name="Brand", query="acme")
    return {"incident": incident, "message": message, "mention": mention, "account": account, "impact": impact}


class Violations:
    """What Chromium reports about the page: Content Security Policy refusals on the console (of the page and its
    frames, the email preview's included) and uncaught script errors."""

    def __init__(self, page):
        self.found = []
        page.on("console", self.console)
        page.on("pageerror", lambda error: self.found.append(f"uncaught error: {error}"))

    def console(self, message):
        if "Content Security Policy" in message.text:
            self.found.append(f"{message.type}: {message.text}")

    def take(self) -> list[str]:
        found, self.found = self.found, []
        return found


def visit(page, violations: Violations, url: str) -> list[str]:
    response = page.goto(url)
    page.wait_for_load_state("networkidle")
    problems = [f"{url}: {found}" for found in violations.take()]
    if response is None or response.status != 200:
        problems.append(f"{url}: HTTP {response.status if response else 'no response'}")
    elif "default-src 'self'" not in (response.headers.get("content-security-policy") or ""):
        problems.append(f"{url}: no Content-Security-Policy header")
    return problems


def test_the_violation_detector_sees_a_refused_inline_script(page, live_server, lead):
    """The check below is only as good as its detector: an inline script added to a page is reported."""
    violations = Violations(page)
    sign_in(page, live_server.url, "lead")
    assert visit(page, violations, f"{live_server.url}/") == []
    page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.inlineScriptRan = true";
        document.head.append(script);
    }""")
    page.wait_for_timeout(200)
    assert page.evaluate("window.inlineScriptRan === undefined")
    assert any("Content Security Policy" in found for found in violations.take())


def test_the_main_pages_run_under_the_content_security_policy_without_a_violation(browser, live_server, site):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations = Violations(page)
    incident, base = site["incident"], live_server.url
    problems = []
    try:
        # The public pages first, signed out.
        for path in ("/status/", "/login/", "/api/docs/"):
            problems += visit(page, violations, base + path)
        page.get_by_text("/api/v1/incidents/").first.wait_for()  # Swagger UI started and read the schema

        sign_in(page, base, "lead")
        for path in (
            "/", "/incidents/", incident.get_absolute_url(), f"/incidents/{incident.pk}/messages/new/",
            f"/messages/{site['message'].pk}/", "/approvals/", "/message-templates/", "/components/",
            "/mentions/", f"/mentions/{site['mention'].pk}/", "/accounts/", site["account"].get_absolute_url(),
            "/board/?owner=anyone", site["impact"].get_absolute_url(), "/profile/", "/admin/",
            "/admin/sentiment/xsearch/",
        ):
            problems += visit(page, violations, base + path)

        # The composer's live preview puts the email, with its own inline styles, into a sandboxed frame.
        problems += visit(page, violations, f"{base}/incidents/{incident.pk}/messages/new/")
        page.get_by_label("Headline").fill("Payments are failing")
        page.get_by_label("Explain").fill("A DNS change broke card payments.")
        email = page.frame_locator('[data-preview="email-html"]')
        email.locator("h1", has_text="Payments are failing").wait_for()
        headline_size = email.locator("h1").evaluate("h1 => getComputedStyle(h1).fontSize")
        problems += [f"composer preview: {found}" for found in violations.take()]
    finally:
        context.close()
    assert not problems, "Under the Content-Security-Policy:\n" + "\n".join(problems)
    assert headline_size == "20px"  # the email's own style attribute applies in the preview
