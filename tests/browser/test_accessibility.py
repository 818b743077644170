"""axe-core (bundled in axe-playwright-python: nothing is fetched at run time) on the main pages of each role, and
the same pages at a phone's width: no serious or critical violation, and no sideways scrolling at 390 px."""

from decimal import Decimal

import pytest
from django.utils import timezone

from accounts import services as account_services
from comms import messaging
from incidents import services as incident_services
from sentiment.models import Mention
from tests.browser.conftest import SCREENSHOTS, sign_in
from tests.factories import AccountFactory, ComponentFactory, ContactFactory, ImpactFactory, IncidentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
BLOCKING = {"serious", "critical"}


@pytest.fixture
def site(lead, manager, support, default_data):
    """A little of everything each page lists: incidents of every severity, a message awaiting approval, flagged
    mentions, accounts with an impact that has a follow-up and a proposed credit, and a public incident."""
    now = timezone.now()
    payments = ComponentFactory(name="Payments")
    incident = incident_services.create_incident(
        actor=lead, title="Card payments failing", severity="SEV1", components=[payments],
        impact_summary="Some card payments fail at checkout.",
    )
    incident_services.show_on_status_page(incident, actor=lead)
    for severity in ("SEV2", "SEV3", "SEV4"):
        IncidentFactory(title=f"A {severity} incident", severity=severity, started_at=now - timezone.timedelta(hours=1))
    message = messaging.create_message(
        incident=incident, author=support, headline="We are investigating failing card payments",
        explain="Some card payments fail at checkout.", acknowledge="We are sorry.",
        resolve="We will update you within the hour.", study="We will share what we learn.",
    )
    messaging.submit(message, actor=support)
    account = AccountFactory(name="Northwind", tier="strategic", arr=240_000, owner=manager)
    mention = None
    for number, text in enumerate(["Checkout keeps failing for me", "Where is my refund? Still broken"]):
        mention = Mention.objects.create(
            source="x", external_id=f"post-{number}", author_handle=f"customer{number}", author_name="A Customer",
            text=text, posted_at=now - timezone.timedelta(minutes=number + 1), compound=-0.8, neg=0.5, neu=0.5,
            pos=0.0, label="negative", flagged=True, flag_reasons=["Very negative: compound -0.80 ≤ -0.50"],
            scored_at=now, incident=incident, account=account,  # the manager sees the mentions of their accounts
        )
    ContactFactory(account=account, name="Lena Okafor", email="lena@northwind.example", is_primary=True)
    impact = ImpactFactory(incident=incident, account=account, level="critical", downtime_minutes=120,
                           sla_breached=True)
    ImpactFactory(incident=incident, account=AccountFactory(name="Tiny Blog", owner=manager), state="contacted")
    ImpactFactory(incident=incident, account=AccountFactory(name="Done Deal", owner=manager), state="closed",
                  closed_at=now)
    account_services.add_follow_up(impact, actor=manager, summary="Call Lena", due_at=now + timezone.timedelta(hours=1))
    account_services.propose_compensation(impact, actor=manager, kind="service_credit", amount=Decimal("500"),
                                          override_reason="Goodwill", reason="Two hours without checkout")
    return {"incident": incident, "message": message, "mention": mention, "account": account, "impact": impact}


def signed_in_pages(site, role: str) -> dict[str, str]:
    pages = {
        "dashboard": "/",
        "incident list": "/incidents/",
        "incident page": site["incident"].get_absolute_url(),
        "message page": f"/messages/{site['message'].pk}/",
        "approvals": "/approvals/",
        "templates": "/message-templates/",
        "mentions queue": "/mentions/",
        "mention page": f"/mentions/{site['mention'].pk}/",
        "flag quality": "/mentions/quality/",
        "maintenance": "/maintenance/",
        "new maintenance window": "/maintenance/new/",
        "components and groups": "/components/",
        "email suppressions": "/email/suppressions/",
        "webhook subscribers": "/subscribers/webhooks/",
        "accounts": "/accounts/",
        "account page": site["account"].get_absolute_url(),
        "board": "/board/?owner=anyone",
        "board with closed": "/board/?owner=anyone&closed=1",
        "impact page": site["impact"].get_absolute_url(),
    }
    if role == "manager":
        del pages["flag quality"]  # reviewers' page
    if role != "lead":  # leads' pages; the others get a 403 there (tests/security covers that)
        for name in ("new maintenance window", "email suppressions", "webhook subscribers"):
            del pages[name]
    if role != "lead":
        del pages["approvals"]  # leads approve; the others get a 403 there (tests/security covers that)
    return pages


def describe(violation: dict) -> str:
    nodes = "\n".join(
        f"      {' '.join(node['target']) if isinstance(node['target'], list) else node['target']}: "
        f"{node.get('failureSummary', '').splitlines()[-1].strip() if node.get('failureSummary') else ''}"
        for node in violation["nodes"][:5]
    )
    more = f"\n      … and {len(violation['nodes']) - 5} more" if len(violation["nodes"]) > 5 else ""
    return f"    [{violation['impact']}] {violation['id']}: {violation['help']}\n{nodes}{more}"


def check(page, axe, name: str, url: str) -> list[str]:
    """The problems on one page, as readable lines: blocking axe violations at desktop and phone widths, and
    sideways scrolling on a phone."""
    problems = []
    page.set_viewport_size(DESKTOP)
    response = page.goto(url)
    if response is None or response.status >= 400:
        return [f"{name} ({url}): HTTP {response.status if response else 'no response'}"]
    for width, size in (("desktop", DESKTOP), ("390 px", PHONE)):
        page.set_viewport_size(size)
        violations = [v for v in axe.run(page).response["violations"] if v["impact"] in BLOCKING]
        if violations:
            problems.append(f"{name} ({url}) at {width}:\n" + "\n".join(describe(v) for v in violations))
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    if scroll_width > PHONE["width"] + 1:
        wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1)
            .filter(el => !el.closest('[hidden]'))
            .slice(0, 5).map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''))""")
        problems.append(f"{name} ({url}) scrolls sideways at 390 px: {scroll_width} px wide ({', '.join(wide)})")
    if problems:  # kept, like every failing browser test's screenshot, at the phone width
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"accessibility-{name.replace(' ', '-')}.png"), full_page=True)
    return problems


@pytest.mark.parametrize("role", ["lead", "manager", "support"])
def test_the_main_pages_of_each_role_have_no_serious_accessibility_violations(browser, live_server, axe, site, role):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, live_server.url, role)
        problems = []
        for name, path in signed_in_pages(site, role).items():
            problems += check(page, axe, name, f"{live_server.url}{path}")
    finally:
        context.close()
    assert not problems, f"Accessibility problems for {role}:\n" + "\n".join(problems)


def test_the_public_status_page_has_no_serious_accessibility_violations(browser, live_server, axe, site):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    try:
        problems = check(page, axe, "status page", f"{live_server.url}/status/")
        assert "Card payments failing" in page.content()  # the public incident is on it
        for name, path in (("email subscription", "/status/subscribe/"),
                           ("webhook subscription", "/status/subscribe/webhooks/")):
            problems += check(page, axe, name, f"{live_server.url}{path}")
    finally:
        context.close()
    assert not problems, "Accessibility problems on the status page:\n" + "\n".join(problems)


def test_the_impact_page_has_no_duplicate_element_ids(browser, live_server, site):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    try:
        sign_in(page, live_server.url, "manager")
        page.goto(f"{live_server.url}{site['impact'].get_absolute_url()}")
        ids = page.evaluate("[...document.querySelectorAll('[id]')].map(el => el.id)")
    finally:
        context.close()
    duplicates = sorted({element_id for element_id in ids if ids.count(element_id) > 1})
    assert len(ids) > 10  # the page and its forms were there
    assert duplicates == []


@pytest.mark.parametrize("signed_in", [True, False], ids=["app", "status page"])
def test_the_first_tab_offers_a_skip_link_to_the_main_content(browser, live_server, lead, signed_in):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    try:
        if signed_in:
            sign_in(page, live_server.url, "lead")
        page.goto(f"{live_server.url}{'/' if signed_in else '/status/'}")
        skip = page.get_by_role("link", name="Skip to content")
        assert skip.bounding_box()["y"] < 0  # out of sight until focused
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to content"
        assert skip.bounding_box()["y"] >= 0
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.tagName") == "MAIN"
        assert page.url.endswith("#main")
    finally:
        context.close()
