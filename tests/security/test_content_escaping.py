"""Hostile content (OWASP A03, cross-site scripting): every free-text field a customer, a mention or a colleague can
fill holds HTML and JavaScript, and every surface that shows it — each page, the composer preview, the email's HTML,
the Atom feed, the JSON — shows it as text. A page passes when the markup never appears raw and each field it shows
appears escaped (so the field really was rendered there)."""

import json
import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from accounts.models import Account, Compensation, Contact, FollowUp
from comms.choices import Audience, MessageState
from comms.models import Message, MessageTemplate
from comms.rendering import render_email
from incidents.models import Component, Incident
from sentiment.models import Mention
from tests.security.authorization import ANONYMOUS, LEAD, MANAGER, SUPPORT
from tests.security.conftest import rolled_back

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
BREAKOUT = '"><img src=x onerror=alert(1)>'
JS_URL = "javascript:alert(1)"


def hostile(field: str) -> str:
    """The field's name, so a failure says which one leaked, then a script tag and an attribute break-out."""
    return f"{field}:{SCRIPT}{BREAKOUT}"


RAW = ("<script>alert(1)", "<img src=x onerror")
JS_LINK = re.compile(r"""(href|src|action|formaction)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)


@pytest.fixture(scope="module")
def hostile_world(django_db_setup, django_db_blocker):
    from tests.security.world import build_world

    with rolled_back(django_db_blocker):
        world = build_world()
        books = world.mine
        Incident.objects.filter(pk=world.incident.pk).update(
            title=hostile("incident_title"), impact_summary=hostile("impact_summary"),
            internal_notes=hostile("internal_notes"), started_at=timezone.now() - timedelta(hours=2))
        Component.objects.filter(pk=world.component.pk).update(name=hostile("component_name"))
        Account.objects.filter(pk=books.account.pk).update(name=hostile("account_name"), notes=hostile("notes"))
        Contact.objects.filter(pk=books.contact.pk).update(
            name=hostile("contact_name"), role=hostile("contact_role")[:100],
            email='"<script>alert(1)</script>"@acme.example')
        FollowUp.objects.filter(pk=books.follow_up.pk).update(summary=hostile("follow_up_summary"))
        Compensation.objects.filter(pk=books.compensation.pk).update(reason=hostile("compensation_reason"))
        Mention.objects.filter(pk=books.mention.pk).update(
            text=hostile("mention_text"), author_name=hostile("author_name"), author_handle=hostile("handle"),
            url=JS_URL, flagged=True, flag_reasons=[hostile("flag_reason")], compound=-0.6, label="negative",
            scored_at=timezone.now(), posted_at=timezone.now() - timedelta(minutes=30))
        MessageTemplate.objects.filter(pk=world.template.pk).update(name=hostile("template_name"))
        for obj in (world.incident, world.component, books.account, books.contact, books.follow_up,
                    books.compensation, books.mention, world.template):
            obj.refresh_from_db()
        parts = {part: hostile(part) for part in ("headline", "explain", "acknowledge", "resolve", "study")}
        published = world.message_by(world.author, **parts)
        now = timezone.now()
        Message.objects.filter(pk=published.pk).update(
            state=MessageState.SENT, approver=world.user(LEAD), approved_at=now, published_at=now,
            dispatched_at=now, audience=Audience.PUBLIC)
        waiting = world.message_by(world.author, headline=hostile("waiting_headline"))
        Message.objects.filter(pk=waiting.pk).update(state=MessageState.SUBMITTED, submitted_at=now)
        world.published = Message.objects.get(pk=published.pk)
        world.waiting = Message.objects.get(pk=waiting.pk)
        yield world


def assert_shown_as_text(content: str, fields: list[str], surface: str) -> None:
    for raw in RAW:
        assert raw not in content, f"{surface} has raw markup {raw!r} near: {content[content.find(raw) - 200:][:400]}"
    assert not JS_LINK.search(content), f"{surface} links to a javascript: URL"
    missing = [field for field in fields if escape(hostile(field)) not in content]
    assert not missing, f"{surface} does not show {missing} escaped (is it still rendered there?)"


# --- Pages --------------------------------------------------------------------------------------------------

PAGES = {
    # surface: (who looks, path, fields it shows)
    "dashboard": (LEAD, lambda w: reverse("dashboard"), ["incident_title", "component_name"]),
    "incident list": (LEAD, lambda w: reverse("incident-list"), ["incident_title", "component_name"]),
    "incident page": (LEAD, lambda w: reverse("incident-detail", args=[w.incident.pk]),
                      ["incident_title", "impact_summary", "internal_notes", "component_name", "headline",
                       "account_name"]),
    "message page": (LEAD, lambda w: reverse("message-detail", args=[w.published.pk]),
                     ["incident_title", "headline", "explain", "acknowledge", "resolve", "study"]),
    "message edit form": (LEAD, lambda w: reverse("message-update", args=[w.waiting.pk]),
                          ["incident_title", "waiting_headline"]),
    "composer": (SUPPORT, lambda w: reverse("message-create", args=[w.incident.pk]),
                 ["incident_title", "template_name"]),
    "approvals": (LEAD, lambda w: reverse("approvals"), ["incident_title", "waiting_headline"]),
    "message templates": (LEAD, lambda w: reverse("message-templates"), ["template_name"]),
    "mentions queue": (SUPPORT, lambda w: reverse("mentions"), ["mention_text", "author_name", "handle",
                                                                 "incident_title", "flag_reason"]),
    "mention page": (SUPPORT, lambda w: reverse("mention-detail", args=[w.mine.mention.pk]),
                     ["mention_text", "author_name", "handle", "incident_title", "flag_reason"]),
    "accounts list": (MANAGER, lambda w: reverse("accounts"), ["account_name"]),
    "account page": (MANAGER, lambda w: reverse("account-detail", args=[w.mine.account.pk]),
                     ["account_name", "notes", "contact_name", "contact_role", "incident_title", "mention_text"]),
    "account edit form": (MANAGER, lambda w: reverse("account-update", args=[w.mine.account.pk]),
                          ["account_name", "notes", "component_name"]),
    "board": (MANAGER, lambda w: reverse("board"), ["account_name", "incident_title"]),
    "impact page": (MANAGER, lambda w: reverse("impact-detail", args=[w.mine.impact.pk]),
                    ["account_name", "incident_title", "follow_up_summary", "compensation_reason"]),
}


@pytest.mark.parametrize("surface", list(PAGES), ids=str)
def test_every_page_shows_hostile_text_escaped(hostile_world, surface):
    role, path, fields = PAGES[surface]
    response = hostile_world.browser(role).get(path(hostile_world))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert_shown_as_text(response.content.decode(), fields, surface)


def test_the_composer_preview_shows_hostile_text_escaped(hostile_world):
    """The preview panes, including the email's HTML in the sandboxed iframe's srcdoc."""
    data = {"action": "preview", "phase": "update", "audience": "public", "channels": ["statuspage", "email"],
            **{part: hostile(part) for part in ("headline", "explain", "acknowledge", "resolve", "study")}}
    path = reverse("message-create", args=[hostile_world.incident.pk])
    response = hostile_world.browser(SUPPORT).post(path, data)
    assert response.status_code == 200
    content = response.content.decode()
    assert_shown_as_text(content, ["headline", "explain", "acknowledge"], "composer preview")
    assert 'srcdoc="' in content and escape(escape(hostile("explain"))) in content  # the email's HTML, as text


@pytest.mark.parametrize("surface", ["mentions queue", "mention page"], ids=str)
def test_a_mention_link_is_never_a_javascript_url(hostile_world, surface):
    role, path, _ = PAGES[surface]
    content = hostile_world.browser(role).get(path(hostile_world)).content.decode()
    assert not JS_LINK.search(content), JS_LINK.search(content)


REFLECTED = {
    # pages whose filter forms put what the visitor sent back into the page
    "mentions queue": (SUPPORT, "mentions"),
    "accounts list": (MANAGER, "accounts"),
    "board": (MANAGER, "board"),
    "incident list": (LEAD, "incident-list"),
}


@pytest.mark.parametrize("surface", list(REFLECTED), ids=str)
def test_what_a_visitor_sends_in_the_query_string_comes_back_escaped(hostile_world, surface):
    role, name = REFLECTED[surface]
    query = {name: hostile("query") for name in ("q", "reason", "incident", "tier", "owner", "status", "page")}
    response = hostile_world.browser(role).get(reverse(name), query)
    assert response.status_code == 200
    assert_shown_as_text(response.content.decode(), ["query"], f"{surface} with a hostile query string")


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", JS_URL])
def test_a_next_field_never_sends_the_browser_off_the_site(hostile_world, target):
    mention = hostile_world.mine.mention
    response = hostile_world.browser(SUPPORT).post(reverse("mention-action", args=[mention.pk, "assign"]),
                                                   {"next": target})
    assert response.status_code == 302
    assert response["Location"] == reverse("mention-detail", args=[mention.pk])


def test_the_sentiment_chart_shows_hostile_headlines_escaped(hostile_world):
    """The incident page's chart: headlines in SVG <title>s, the summary in aria-label, the markers' table."""
    html = Template("{% load sentiment_tags %}{% sentiment_chart incident %}").render(
        Context({"incident": hostile_world.incident}))
    assert "sentiment-markers" in html, html[:500]
    assert_shown_as_text(html, ["incident_title", "headline"], "sentiment chart")


# --- Email -------------------------------------------------------------------------------------------------

def test_the_emails_html_shows_hostile_text_escaped(hostile_world):
    subject, text, html = render_email(hostile_world.published, unsubscribe_url="https://status.example/u/x/")
    assert_shown_as_text(html, ["headline", "explain", "acknowledge", "resolve", "study"], "email HTML")
    assert hostile("headline") in subject and hostile("explain") in text  # plain text parts stay plain text


# --- The public status page, its feed and JSON (comms/statuspage.py and comms/statuspage/views.py) --------------

def test_the_status_page_shows_hostile_text_escaped(hostile_world):
    response = hostile_world.browser(ANONYMOUS).get(reverse("status-page"))
    assert response.status_code == 200
    assert_shown_as_text(response.content.decode(),
                         ["incident_title", "impact_summary", "component_name", "headline", "explain"], "status page")
    assert escape(hostile("internal_notes")) not in response.content.decode()  # and internal notes stay inside


def test_the_atom_feed_carries_hostile_text_as_text(hostile_world):
    response = hostile_world.browser(ANONYMOUS).get(reverse("status-feed"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    raw = response.content.decode()
    for markup in RAW:
        assert markup not in raw
    ns = {"atom": "http://www.w3.org/2005/Atom"}
    entry = ET.fromstring(raw).find("atom:entry", ns)
    title = entry.find("atom:title", ns)
    assert title.get("type", "text") == "text" and hostile("headline") in title.text  # text: readers never parse it
    content = entry.find("atom:content", ns)
    assert content.get("type") == "html"
    html = content.text  # HTML that readers render: the hostile text must be escaped inside it
    for markup in RAW:
        assert markup not in html
    assert escape(hostile("explain")) in html


@pytest.mark.parametrize("name", ["statuspage-summary", "statuspage-incidents", "statuspage-unresolved"])
def test_the_public_json_carries_hostile_text_unchanged_as_json(hostile_world, name):
    response = hostile_world.browser(ANONYMOUS).get(reverse(name))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    body = json.dumps(response.json(), ensure_ascii=False)
    assert json.dumps(hostile("incident_title"), ensure_ascii=False)[1:-1] in body


# --- The REST API ------------------------------------------------------------------------------------------

API = {
    # name: (who asks, path, {field in the JSON: the hostile value it must hold})
    "incident": (LEAD, lambda w: reverse("api-incident-detail", args=[w.incident.pk]),
                 lambda w: {"title": hostile("incident_title"), "impact_summary": hostile("impact_summary")}),
    "message": (LEAD, lambda w: reverse("api-message-detail", args=[w.published.pk]),
                lambda w: {part: hostile(part) for part in ("headline", "explain", "acknowledge")}),
    "message preview": (LEAD, lambda w: reverse("api-message-preview", args=[w.published.pk]),
                        lambda w: {"x": None}),
    "mention": (SUPPORT, lambda w: reverse("api-mention-detail", args=[w.mine.mention.pk]),
                # A stored URL that is not an http(s) URI is answered as "" (the schema promises format: uri).
                lambda w: {"text": hostile("mention_text"), "author_name": hostile("author_name"), "url": "",
                           "account_name": hostile("account_name")}),
    "account": (MANAGER, lambda w: reverse("api-account-detail", args=[w.mine.account.pk]),
                lambda w: {"name": hostile("account_name"), "notes": hostile("notes")}),
    "contact": (MANAGER, lambda w: reverse("api-contact-detail", args=[w.mine.contact.pk]),
                lambda w: {"name": hostile("contact_name")}),
    "follow-up": (MANAGER, lambda w: reverse("api-followup-detail", args=[w.mine.follow_up.pk]),
                  lambda w: {"summary": hostile("follow_up_summary")}),
    "compensation": (MANAGER, lambda w: reverse("api-compensation-detail", args=[w.mine.compensation.pk]),
                     lambda w: {"reason": hostile("compensation_reason")}),
    "template": (LEAD, lambda w: reverse("api-template-detail", args=[w.template.pk]),
                 lambda w: {"name": hostile("template_name")}),
}


@pytest.mark.parametrize("resource", list(API), ids=str)
def test_the_api_returns_hostile_text_unchanged_as_json(hostile_world, resource):
    role, path, expected = API[resource]
    response = hostile_world.api(role).get(path(hostile_world))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json", "never text/html, which a browser would render"
    body = json.loads(response.content)
    for field, value in expected(hostile_world).items():
        if value is None:  # the preview: the email's HTML inside the JSON is escaped HTML
            assert escape(hostile("headline")) in body["email"]["html"]
            assert SCRIPT not in body["email"]["html"]
            continue
        assert body[field] == value, f"{resource}.{field}"


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_the_api_answers_json_even_to_a_browser(hostile_world):
    """With a browser's Accept header the API still answers JSON, so hostile text never becomes an HTML page."""
    response = hostile_world.api(SUPPORT).get(reverse("api-mention-detail", args=[hostile_world.mine.mention.pk]),
                                               HTTP_ACCEPT=BROWSER_ACCEPT)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)["text"] == hostile("mention_text")


def test_a_javascript_url_is_refused_when_a_mention_is_ingested(hostile_world):
    item = {"external_id": "js-1", "text": "hello", "posted_at": timezone.now().isoformat(), "url": JS_URL}
    response = hostile_world.api(SUPPORT).post(reverse("api-mention-bulk"), [item], format="json")
    assert response.status_code == 200
    assert response.json()["results"][0]["status"] == "error"
    assert "url" in response.json()["results"][0]["reason"]
    assert not Mention.objects.filter(external_id="js-1").exists()

