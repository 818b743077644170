"""The public status page, its Atom feed, the Statuspage-compatible JSON and email subscriptions."""

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from comms import statuspage
from comms.choices import Audience, MessageState
from comms.models import Message, Subscriber
from incidents import services
from incidents.choices import ComponentStatus, IncidentStatus
from incidents.models import Component
from tests.comms.helpers import open_public_incident
from tests.factories import ComponentFactory, IncidentFactory, MessageFactory

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
CACHED_URLS = [
    "/status/",
    "/status/feed.atom",
    "/api/v2/summary.json",
    "/api/v2/status.json",
    "/api/v2/components.json",
    "/api/v2/incidents.json",
    "/api/v2/incidents/unresolved.json",
]
URLS_WITH_OPEN_INCIDENTS = [
    "/status/",
    "/status/feed.atom",
    "/api/v2/summary.json",
    "/api/v2/incidents.json",
    "/api/v2/incidents/unresolved.json",
]

PAGE_KEYS = {"id", "name", "url", "time_zone", "updated_at"}
COMPONENT_KEYS = {
    "id", "name", "status", "created_at", "updated_at", "position", "description", "showcase", "start_date",
    "group_id", "page_id", "group", "only_show_if_degraded",
}
INCIDENT_KEYS = {
    "id", "name", "status", "created_at", "updated_at", "monitoring_at", "resolved_at", "impact", "shortlink",
    "started_at", "page_id", "incident_updates", "components",
}
UPDATE_KEYS = {
    "id", "status", "body", "incident_id", "created_at", "updated_at", "display_at", "affected_components",
    "deliver_notifications", "custom_tweet", "tweet_id",
}


def post_update(incident, author, headline, *, published_at="now", audience=Audience.PUBLIC,
                state=MessageState.SENT, **parts) -> Message:
    """A message as publishing leaves it: published_at set (unless None), in the given state and audience."""
    return MessageFactory(
        incident=incident, author=author, headline=headline, channels=["statuspage"], state=state, audience=audience,
        published_at=timezone.now() if published_at == "now" else published_at,
        **{"explain": f"Explanation of {headline}.", "acknowledge": "", "resolve": "", "study": "", **parts},
    )


def text_of(response) -> str:
    return response.content.decode()


def feed_entries(response) -> list[ET.Element]:
    return ET.fromstring(response.content).findall(f"{ATOM}entry")


# --- Anyone may read --------------------------------------------------------------------------------


@pytest.mark.parametrize("url", CACHED_URLS)
def test_every_public_page_and_feed_answers_an_anonymous_visitor(client, url):
    response = client.get(url)
    assert response.status_code == 200


@pytest.mark.parametrize("kind", ["confirm", "unsubscribe"])
def test_the_subscription_links_answer_an_anonymous_visitor(client, kind):
    subscriber = Subscriber.objects.create(email="reader@example.com")
    token = subscriber.confirm_token if kind == "confirm" else subscriber.unsubscribe_token
    assert client.get(f"/status/{kind}/{token}/").status_code == 200


def test_subscribing_needs_no_login(client):
    response = client.post("/status/subscribe/", {"email": "reader@example.com"})
    assert response.status_code == 200


# --- Only published public updates, never anything internal -----------------------------------------


@pytest.fixture
def incident_with_every_kind_of_message(lead):
    incident = IncidentFactory(title="Checkout errors", internal_notes="SECRET-NOTES the DB primary died")
    post_update(incident, lead, "PUBLIC-HEADLINE", explain="PUBLIC-EXPLAIN")
    post_update(incident, lead, "DRAFT-HEADLINE", explain="DRAFT-EXPLAIN", state=MessageState.DRAFT, published_at=None)
    post_update(incident, lead, "UNPUBLISHED-HEADLINE", explain="UNPUBLISHED-EXPLAIN",
                state=MessageState.SCHEDULED, published_at=None)
    post_update(incident, lead, "INTERNAL-HEADLINE", explain="INTERNAL-EXPLAIN", audience=Audience.INTERNAL)
    post_update(incident, lead, "ACCOUNTS-HEADLINE", explain="ACCOUNTS-EXPLAIN", audience=Audience.AFFECTED_ACCOUNTS)
    return incident


@pytest.mark.parametrize("url", URLS_WITH_OPEN_INCIDENTS)
def test_only_published_public_updates_appear_and_never_a_draft_or_an_internal_message(
    client, incident_with_every_kind_of_message, url
):
    body = text_of(client.get(url))
    assert "PUBLIC-HEADLINE" in body
    assert "PUBLIC-EXPLAIN" in body
    for secret in ("DRAFT", "UNPUBLISHED", "INTERNAL", "ACCOUNTS", "SECRET-NOTES"):
        assert secret not in body, f"{secret} leaked into {url}"


@pytest.mark.parametrize("url", CACHED_URLS)
def test_no_public_url_ever_shows_internal_notes_or_unpublished_text(client, incident_with_every_kind_of_message, url):
    body = text_of(client.get(url))
    assert not re.search(r"DRAFT|UNPUBLISHED|INTERNAL-|ACCOUNTS-|SECRET-NOTES", body)


def test_an_open_incident_shows_its_updates_newest_first_with_its_public_status(client, lead):
    incident = IncidentFactory(title="Slow search", status=IncidentStatus.IDENTIFIED)
    now = timezone.now()
    post_update(incident, lead, "First we noticed", published_at=now - timedelta(hours=2))
    post_update(incident, lead, "Then we found it", published_at=now - timedelta(hours=1))
    page = text_of(client.get("/status/"))
    current = page.split("Current incidents")[1].split("Resolved in the last")[0]
    assert "Slow search" in current
    assert current.index("Then we found it") < current.index("First we noticed")
    assert 'class="pill pill-identified">Identified<' in current


def test_a_closed_incident_reads_as_resolved_on_the_page_and_in_the_json(client, lead):
    incident = IncidentFactory(title="Old outage", status=IncidentStatus.CLOSED,
                               resolved_at=timezone.now() - timedelta(days=1))
    post_update(incident, lead, "All fixed")
    page = text_of(client.get("/status/"))
    assert "Closed" not in page
    assert 'class="pill pill-resolved">Resolved<' in page.split("Resolved in the last")[1]
    listed = client.get("/api/v2/incidents.json").json()["incidents"]
    assert [(item["name"], item["status"]) for item in listed] == [("Old outage", "resolved")]
    assert listed[0]["incident_updates"][0]["status"] == "resolved"


def test_resolved_incidents_stay_on_the_page_for_90_days(client, lead):
    now = timezone.now()
    IncidentFactory(title="Recent trouble", status=IncidentStatus.RESOLVED, resolved_at=now - timedelta(days=89))
    IncidentFactory(title="Ancient trouble", status=IncidentStatus.RESOLVED, resolved_at=now - timedelta(days=91))
    IncidentFactory(title="Closed recently", status=IncidentStatus.CLOSED, resolved_at=now - timedelta(days=3))
    past = text_of(client.get("/status/")).split("Resolved in the last 90 days")[1]
    assert "Recent trouble" in past
    assert "Closed recently" in past
    assert past.index("Closed recently") < past.index("Recent trouble")
    assert "Ancient trouble" not in past


def test_components_are_listed_in_display_order_with_their_status(client):
    ComponentFactory(name="Zeta API", display_order=1, status=ComponentStatus.PARTIAL_OUTAGE)
    ComponentFactory(name="Alpha dashboard", display_order=2)
    page = text_of(client.get("/status/"))
    assert page.index("Zeta API") < page.index("Alpha dashboard")
    assert "Partial outage" in page
    positions = {c["name"]: c["position"] for c in client.get("/api/v2/components.json").json()["components"]}
    assert positions == {"Zeta API": 1, "Alpha dashboard": 2}


def test_the_banner_says_all_systems_operational_when_every_component_is(client):
    ComponentFactory(name="API")
    page = text_of(client.get("/status/"))
    assert "All systems operational" in page
    assert "banner-none" in page


def test_the_banner_shows_the_worst_component_status(client):
    ComponentFactory(name="API", status=ComponentStatus.DEGRADED_PERFORMANCE)
    ComponentFactory(name="Payments", status=ComponentStatus.MAJOR_OUTAGE)
    page = text_of(client.get("/status/"))
    assert "All systems operational" not in page
    assert "banner-critical" in page
    assert "Major service outage" in page


def test_times_are_shown_in_the_configured_time_zone_with_its_name(client, lead, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    incident = IncidentFactory(title="Winter trouble", started_at=datetime(2030, 1, 15, 11, 0, tzinfo=UTC))
    post_update(incident, lead, "Looking into it", published_at=datetime(2030, 1, 15, 12, 0, tzinfo=UTC))
    page = text_of(client.get("/status/"))
    assert "15 Jan 2030, 13:00 CET" in page
    assert "Times are shown in Europe/Berlin" in page


def test_the_page_links_its_atom_feed_and_its_own_stylesheet(client):
    page = text_of(client.get("/status/"))
    assert re.search(r'<link rel="alternate" type="application/atom\+xml"[^>]*href="/status/feed.atom"', page)
    assert 'href="/static/ears/status.css"' in page
    assert "ears/app.css" not in page
    assert not re.search(r'(src|href)="(https?:)?//', page), "no external assets"


def test_html_in_a_headline_is_escaped_on_the_page_and_in_the_feed(client, lead):
    incident = IncidentFactory(title="Tags <b>here</b>")
    post_update(incident, lead, "<script>alert('x')</script>", explain="Some <em>markup</em> & more")
    page = text_of(client.get("/status/"))
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert" in page
    assert "<em>markup" not in page
    feed = client.get("/status/feed.atom")
    assert b"<script>" not in feed.content
    entry = feed_entries(feed)[0]
    assert entry.findtext(f"{ATOM}title") == "[Investigating] Tags <b>here</b>: <script>alert('x')</script>"
    assert "&lt;em&gt;markup&lt;/em&gt; &amp; more" in entry.findtext(f"{ATOM}content")


# --- Atom feed ----------------------------------------------------------------------------------------


def test_the_feed_lists_published_updates_newest_first_in_the_agreed_shape(client, lead, settings):
    settings.SITE_URL = "https://status.example.com"
    incident = IncidentFactory(title="Checkout errors", status=IncidentStatus.MONITORING)
    now = timezone.now().replace(microsecond=0)
    older = post_update(incident, lead, "We are looking", published_at=now - timedelta(minutes=30))
    newer = post_update(incident, lead, "A fix is live", published_at=now,
                        explain="Payments work again.", acknowledge="Sorry for the trouble.")
    feed = client.get("/status/feed.atom")
    assert feed["Content-Type"].startswith("application/atom+xml")
    entries = feed_entries(feed)
    assert [entry.findtext(f"{ATOM}title") for entry in entries] == [
        "[Monitoring] Checkout errors: A fix is live",
        "[Monitoring] Checkout errors: We are looking",
    ]
    first = entries[0]
    assert first.find(f"{ATOM}link").get("href") == f"https://status.example.com/status/#incident-{incident.pk}"
    assert datetime.fromisoformat(first.findtext(f"{ATOM}published")) == now
    assert first.find(f"{ATOM}content").get("type") == "html"
    assert first.findtext(f"{ATOM}content") == "<p>Payments work again.</p><p>Sorry for the trouble.</p>"
    assert {entry.findtext(f"{ATOM}id") for entry in entries} == {
        f"https://status.example.com/status/#update-{newer.pk}",
        f"https://status.example.com/status/#update-{older.pk}",
    }


def test_the_feed_holds_the_last_50_updates(client, lead):
    incident = IncidentFactory(title="Long incident")
    start = timezone.now() - timedelta(days=1)
    for number in range(51):
        post_update(incident, lead, f"Update number {number}", published_at=start + timedelta(minutes=number))
    titles = [entry.findtext(f"{ATOM}title") for entry in feed_entries(client.get("/status/feed.atom"))]
    assert len(titles) == 50
    assert titles[0].endswith("Update number 50")
    assert not any(title.endswith("Update number 0") for title in titles)


# --- Statuspage v2 JSON -------------------------------------------------------------------------------


@pytest.fixture
def busy_page(lead):
    api = ComponentFactory(name="API", display_order=1, status=ComponentStatus.PARTIAL_OUTAGE)
    ComponentFactory(name="Dashboard", display_order=2, description="Where you sign in")
    incident = open_public_incident(lead, title="API errors", severity="SEV2", components=[api])
    services.change_status(incident, IncidentStatus.MONITORING, actor=lead)
    post_update(incident, lead, "We are on it", explain="Requests fail.",
                published_at=timezone.now() - timedelta(minutes=5))
    post_update(incident, lead, "Fix deployed", explain="Errors have stopped.")
    return incident


@pytest.mark.parametrize(
    ("url", "keys"),
    [
        ("/api/v2/summary.json", {"page", "components", "incidents", "scheduled_maintenances", "status"}),
        ("/api/v2/status.json", {"page", "status"}),
        ("/api/v2/components.json", {"page", "components"}),
        ("/api/v2/incidents.json", {"page", "incidents"}),
        ("/api/v2/incidents/unresolved.json", {"page", "incidents"}),
    ],
)
def test_each_v2_document_has_statuspages_top_level_keys_and_page(client, busy_page, settings, url, keys):
    response = client.get(url)
    assert response["Content-Type"] == "application/json"
    document = response.json()
    assert set(document) == keys
    assert set(document["page"]) == PAGE_KEYS
    assert document["page"]["name"] == settings.STATUS_PAGE_NAME
    assert document["page"]["url"] == settings.SITE_URL + "/status/"
    assert document["page"]["time_zone"] == settings.TIME_ZONE


def test_the_summary_has_statuspages_component_incident_and_update_shapes(client, busy_page):
    summary = client.get("/api/v2/summary.json").json()
    page_id = summary["page"]["id"]
    assert summary["scheduled_maintenances"] == []
    assert summary["status"] == {"indicator": "major", "description": "Partial System Outage"}

    api, dashboard = summary["components"]
    assert set(api) == COMPONENT_KEYS
    assert api["id"] == str(Component.objects.get(name="API").pk)
    assert (api["name"], api["status"], api["position"], api["page_id"]) == ("API", "partial_outage", 1, page_id)
    assert (api["showcase"], api["start_date"], api["group_id"], api["group"], api["only_show_if_degraded"]) == (
        True, None, None, False, False
    )
    assert api["description"] is None and dashboard["description"] == "Where you sign in"

    [incident] = summary["incidents"]
    assert set(incident) == INCIDENT_KEYS
    assert incident["id"] == str(busy_page.pk)
    assert (incident["name"], incident["status"], incident["impact"]) == ("API errors", "monitoring", "major")
    assert incident["shortlink"].endswith(f"/status/#incident-{busy_page.pk}")
    assert incident["monitoring_at"] is not None and incident["resolved_at"] is None
    assert incident["page_id"] == page_id
    assert [component["name"] for component in incident["components"]] == ["API"]
    assert set(incident["components"][0]) == COMPONENT_KEYS

    newest, oldest = incident["incident_updates"]
    assert set(newest) == UPDATE_KEYS
    assert newest["body"] == "Fix deployed\n\nErrors have stopped."
    assert oldest["body"] == "We are on it\n\nRequests fail."
    assert newest["incident_id"] == str(busy_page.pk)
    assert newest["status"] == "monitoring"
    assert newest["created_at"] == newest["display_at"] == newest["updated_at"]
    assert (newest["affected_components"], newest["deliver_notifications"], newest["custom_tweet"],
            newest["tweet_id"]) == (None, True, None, None)
    assert incident["updated_at"] == newest["created_at"]
    assert all(isinstance(item["id"], str) for item in [api, incident, newest])


def test_times_in_the_json_are_iso_8601_in_the_page_time_zone(client, lead, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    incident = IncidentFactory(title="Winter trouble", started_at=datetime(2030, 1, 15, 11, 0, tzinfo=UTC))
    post_update(incident, lead, "Looking into it", published_at=datetime(2030, 1, 15, 12, 0, tzinfo=UTC))
    [listed] = client.get("/api/v2/incidents.json").json()["incidents"]
    assert listed["started_at"] == "2030-01-15T12:00:00.000+01:00"
    assert listed["incident_updates"][0]["display_at"] == "2030-01-15T13:00:00.000+01:00"


def test_monitoring_at_is_when_the_incident_moved_to_monitoring(client, lead):
    watched = open_public_incident(lead, title="Watched")
    services.change_status(watched, IncidentStatus.MONITORING, actor=lead)
    open_public_incident(lead, title="Still investigating")
    moved_at = watched.timeline.get(kind="status").at
    listed = {item["name"]: item for item in client.get("/api/v2/incidents/unresolved.json").json()["incidents"]}
    assert listed["Watched"]["monitoring_at"] == timezone.localtime(moved_at).isoformat(timespec="milliseconds")
    assert listed["Still investigating"]["monitoring_at"] is None


def test_incidents_json_lists_open_incidents_and_those_with_a_published_update(client, lead):
    IncidentFactory(title="Open and quiet")
    told = IncidentFactory(title="Resolved and told", status=IncidentStatus.RESOLVED, resolved_at=timezone.now())
    post_update(told, lead, "It is fixed")
    untold = IncidentFactory(title="Resolved in silence", status=IncidentStatus.RESOLVED, resolved_at=timezone.now())
    post_update(untold, lead, "Only a draft", state=MessageState.DRAFT, published_at=None)
    post_update(untold, lead, "Only internal", audience=Audience.INTERNAL)
    names = {item["name"] for item in client.get("/api/v2/incidents.json").json()["incidents"]}
    assert names == {"Open and quiet", "Resolved and told"}
    unresolved = client.get("/api/v2/incidents/unresolved.json").json()["incidents"]
    assert [item["name"] for item in unresolved] == ["Open and quiet"]
    summary = client.get("/api/v2/summary.json").json()["incidents"]
    assert [item["name"] for item in summary] == ["Open and quiet"]


def test_incidents_json_holds_the_last_50(client):
    start = timezone.now() - timedelta(days=10)
    for number in range(51):
        IncidentFactory(title=f"Incident number {number}", started_at=start + timedelta(hours=number))
    names = [item["name"] for item in client.get("/api/v2/incidents.json").json()["incidents"]]
    assert len(names) == 50
    assert names[0] == "Incident number 50"
    assert "Incident number 0" not in names


@pytest.mark.parametrize(
    ("component_statuses", "open_severities", "expected"),
    [
        ([], [], ("none", "All Systems Operational")),
        (["operational", "operational"], [], ("none", "All Systems Operational")),
        (["operational", "degraded_performance"], [], ("minor", "Minor Service Outage")),
        (["under_maintenance"], [], ("minor", "Service Under Maintenance")),
        (["partial_outage", "degraded_performance"], [], ("major", "Partial System Outage")),
        (["major_outage", "partial_outage", "under_maintenance"], [], ("critical", "Major Service Outage")),
        (["operational"], ["SEV4"], ("none", "All Systems Operational")),
        (["operational"], ["SEV3"], ("minor", "Minor Service Outage")),
        (["degraded_performance"], ["SEV1", "SEV3"], ("critical", "Major Service Outage")),
        (["major_outage"], ["SEV3"], ("critical", "Major Service Outage")),
        (["under_maintenance"], ["SEV2"], ("major", "Partial System Outage")),
    ],
)
def test_the_status_indicator_is_the_worst_of_components_and_open_incidents(
    component_statuses, open_severities, expected
):
    result = statuspage.data.status_indicator(component_statuses, open_severities)
    assert (result["indicator"], result["description"]) == expected


def test_status_json_counts_only_open_incidents(client):
    ComponentFactory(name="API", status=ComponentStatus.DEGRADED_PERFORMANCE)
    IncidentFactory(severity="SEV1", status=IncidentStatus.RESOLVED, resolved_at=timezone.now())
    assert client.get("/api/v2/status.json").json()["status"]["indicator"] == "minor"
    IncidentFactory(severity="SEV1")
    statuspage.invalidate_status_page()
    assert client.get("/api/v2/status.json").json()["status"]["indicator"] == "critical"


def test_the_shape_functions_return_the_documents_the_urls_serve(client, busy_page):
    assert client.get("/api/v2/summary.json").json() == statuspage.data.summary()
    assert client.get("/api/v2/incidents/unresolved.json").json() == statuspage.data.incidents(unresolved_only=True)


# --- Caching --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", CACHED_URLS)
def test_a_second_request_is_served_from_the_cache_without_the_database(
    client, busy_page, django_assert_num_queries, url
):
    first = client.get(url)
    with django_assert_num_queries(0):
        second = client.get(url)
    assert second.status_code == 200
    if url != "/status/":  # the page differs only in each visitor's CSRF token
        assert second.content == first.content


@pytest.mark.parametrize("url", URLS_WITH_OPEN_INCIDENTS)
def test_an_invalidation_shows_a_change_at_once(client, busy_page, url):
    assert "Fix deployed" in text_of(client.get(url))
    Message.objects.filter(headline="Fix deployed").update(headline="Changed quietly")
    assert "Fix deployed" in text_of(client.get(url)), "served from the cache until invalidated"
    statuspage.invalidate_status_page()
    body = text_of(client.get(url))
    assert "Changed quietly" in body
    assert "Fix deployed" not in body


def test_a_component_change_invalidates_the_page_by_itself(client):
    component = ComponentFactory(name="API")
    assert "All systems operational" in text_of(client.get("/status/"))
    component.status = ComponentStatus.MAJOR_OUTAGE
    component.save()
    assert "Major service outage" in text_of(client.get("/status/"))


@pytest.mark.parametrize("url", CACHED_URLS)
def test_the_query_count_does_not_grow_with_incidents_and_updates(client, lead, url):
    def queries() -> int:
        statuspage.invalidate_status_page()
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    first = IncidentFactory()
    first.components.set([ComponentFactory(name="API")])
    post_update(first, lead, "One update")
    few = queries()
    now = timezone.now()
    for number in range(4):
        incident = IncidentFactory(title=f"Open {number}")
        incident.components.set([ComponentFactory()])
        resolved = IncidentFactory(title=f"Resolved {number}", status=IncidentStatus.RESOLVED, resolved_at=now)
        for target in (incident, resolved):
            post_update(target, lead, f"First about {target.title}")
            post_update(target, lead, f"Second about {target.title}")
    assert queries() == few


def test_a_new_title_or_severity_shows_on_the_status_json_at_once(client, lead):
    incident = open_public_incident(lead, title="Slow search", severity="SEV3")
    assert client.get("/api/v2/incidents/unresolved.json").json()["incidents"][0]["impact"] == "minor"
    services.update_incident(incident, actor=lead, title="Search down", severity="SEV1")
    fresh = client.get("/api/v2/incidents/unresolved.json").json()["incidents"][0]
    assert (fresh["name"], fresh["impact"]) == ("Search down", "critical")


# --- Subscribing ----------------------------------------------------------------------------------------


def test_subscribing_sends_a_confirmation_email_and_asks_to_check_the_inbox(
    client, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    api = ComponentFactory(name="API")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/status/subscribe/", {"email": "Reader@Example.com", "components": [api.pk]})
    assert response.status_code == 200
    assert "Check your inbox to confirm" in text_of(response)
    subscriber = Subscriber.objects.get()
    assert (subscriber.email, subscriber.is_confirmed) == ("reader@example.com", False)
    assert list(subscriber.components.all()) == [api]
    [email] = mailoutbox
    assert email.to == ["reader@example.com"]
    assert f"/status/confirm/{subscriber.confirm_token}/" in email.body


def test_subscribing_a_known_address_gives_exactly_the_same_answer(
    client, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    Subscriber.objects.create(email="known@example.com", confirmed_at=timezone.now())
    Subscriber.objects.create(email="pending@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        answers = [client.post("/status/subscribe/", {"email": email})
                   for email in ("new@example.com", "known@example.com", "pending@example.com")]
    assert {answer.status_code for answer in answers} == {200}
    assert answers[0].content == answers[1].content == answers[2].content
    assert sorted(email.to[0] for email in mailoutbox) == ["new@example.com", "pending@example.com"]


@pytest.mark.parametrize("email", ["not-an-address", "", "a@b@example.com"])
def test_an_invalid_email_is_refused_with_400_and_the_form_again(client, mailoutbox, email):
    response = client.post("/status/subscribe/", {"email": email})
    assert response.status_code == 400
    page = text_of(response)
    assert 'class="error"' in page
    assert 'action="/status/subscribe/"' in page
    assert not Subscriber.objects.exists()
    assert mailoutbox == []


def test_the_subscribe_page_shows_the_form_and_answers_nothing_but_get_and_post(client):
    page = text_of(client.get("/status/subscribe/"))
    assert 'action="/status/subscribe/"' in page and 'name="email"' in page
    assert client.put("/status/subscribe/").status_code == 405


def test_the_status_page_is_the_same_bytes_for_every_visitor_with_no_form_token_or_cookie():
    first = Client(enforce_csrf_checks=True).get("/status/")
    second = Client(enforce_csrf_checks=True).get("/status/")
    assert first.content == second.content
    assert "<form" not in text_of(first) and "csrfmiddlewaretoken" not in text_of(first)
    assert not first.cookies and "Cookie" not in first.get("Vary", "")
    assert '<a href="/status/subscribe/">By email</a>' in text_of(first)


def test_the_subscribe_page_gives_each_visitor_a_working_csrf_token_of_their_own():
    visitor = Client(enforce_csrf_checks=True)
    page = text_of(visitor.get("/status/subscribe/"))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = visitor.post("/status/subscribe/", {"email": "reader@example.com", "csrfmiddlewaretoken": token})
    assert response.status_code == 200


def test_subscribing_without_a_csrf_token_is_refused():
    response = Client(enforce_csrf_checks=True).post("/status/subscribe/", {"email": "reader@example.com"})
    assert response.status_code == 403
    assert not Subscriber.objects.exists()


# --- Confirming ---------------------------------------------------------------------------------------


def test_opening_the_confirmation_link_does_not_confirm_but_offers_a_button(client):
    subscriber = Subscriber.objects.create(email="reader@example.com")
    response = client.get(f"/status/confirm/{subscriber.confirm_token}/")
    assert response.status_code == 200
    assert re.search(r'<form method="post">.*Yes, send me updates', text_of(response), re.S)
    subscriber.refresh_from_db()
    assert not subscriber.is_confirmed


def test_pressing_the_confirm_button_confirms_the_subscription():
    subscriber = Subscriber.objects.create(email="reader@example.com")
    browser = Client(enforce_csrf_checks=True)
    url = f"/status/confirm/{subscriber.confirm_token}/"
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text_of(browser.get(url))).group(1)
    response = browser.post(url, {"csrfmiddlewaretoken": token})
    assert response.status_code == 200
    assert "Subscription confirmed" in text_of(response)
    subscriber.refresh_from_db()
    assert subscriber.is_confirmed


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_unknown_confirmation_token_is_a_404_that_says_so(client, method):
    Subscriber.objects.create(email="reader@example.com")
    response = getattr(client, method)("/status/confirm/no-such-token/")
    assert response.status_code == 404
    assert "This confirmation link is not valid" in text_of(response)
    assert not Subscriber.objects.get().is_confirmed


def test_a_confirmation_link_works_once_and_a_second_visit_says_it_was_used(client):
    subscriber = Subscriber.objects.create(email="reader@example.com")
    url = f"/status/confirm/{subscriber.confirm_token}/"
    assert client.post(url).status_code == 200
    subscriber.refresh_from_db()
    confirmed_at = subscriber.confirmed_at

    for again in (client.get, client.post):
        response = again(url)
        assert response.status_code == 404
        assert "This confirmation link is not valid" in text_of(response)
        assert "used already" in text_of(response)
        assert "Yes, send me updates" not in text_of(response)
    subscriber.refresh_from_db()
    assert subscriber.confirmed_at == confirmed_at  # confirmed once, not again


def test_the_confirmation_and_unsubscribe_pages_name_no_address(client):
    subscriber = Subscriber.objects.create(email="reader.lastname@example.com")
    confirm = f"/status/confirm/{subscriber.confirm_token}/"
    unsubscribe = f"/status/unsubscribe/{subscriber.unsubscribe_token}/"
    pages = {
        "confirm, opened": client.get(confirm),
        "confirm, pressed": client.post(confirm),
        "confirm, opened again": client.get(confirm),
        "unsubscribe, opened": client.get(unsubscribe),
        "unsubscribe, pressed": client.post(unsubscribe),
        "unsubscribe, opened again": client.get(unsubscribe),
    }
    assert [page.status_code for page in pages.values()] == [200, 200, 404, 200, 200, 404]
    assert [name for name, page in pages.items() if "lastname" in text_of(page)] == []


# --- Unsubscribing ------------------------------------------------------------------------------------


def test_opening_the_unsubscribe_link_does_not_unsubscribe_but_offers_a_button(client):
    subscriber = Subscriber.objects.create(email="reader@example.com", confirmed_at=timezone.now())
    for method in (client.get, client.head):
        assert method(f"/status/unsubscribe/{subscriber.unsubscribe_token}/").status_code == 200
    page = text_of(client.get(f"/status/unsubscribe/{subscriber.unsubscribe_token}/"))
    assert re.search(r'<form method="post".*>Unsubscribe</button>', page, re.S)
    assert Subscriber.objects.filter(pk=subscriber.pk).exists()


def test_pressing_the_unsubscribe_button_removes_the_subscription(client):
    subscriber = Subscriber.objects.create(email="reader@example.com", confirmed_at=timezone.now())
    Subscriber.objects.create(email="other@example.com", confirmed_at=timezone.now())
    response = client.post(f"/status/unsubscribe/{subscriber.unsubscribe_token}/", {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "you will receive no more updates" in text_of(response).lower()
    assert list(Subscriber.objects.values_list("email", flat=True)) == ["other@example.com"]


def test_one_click_unsubscribe_works_without_a_csrf_token():
    subscriber = Subscriber.objects.create(email="reader@example.com", confirmed_at=timezone.now())
    response = Client(enforce_csrf_checks=True).post(
        f"/status/unsubscribe/{subscriber.unsubscribe_token}/",
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert not Subscriber.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_unknown_unsubscribe_token_is_a_friendly_404(client, method):
    Subscriber.objects.create(email="reader@example.com")
    response = getattr(client, method)("/status/unsubscribe/no-such-token/")
    assert response.status_code == 404
    assert "does not match any subscription" in text_of(response)
    assert Subscriber.objects.count() == 1


def test_the_confirmation_token_cannot_unsubscribe_and_the_unsubscribe_token_cannot_confirm(client):
    subscriber = Subscriber.objects.create(email="reader@example.com")
    assert client.post(f"/status/unsubscribe/{subscriber.confirm_token}/").status_code == 404
    assert client.post(f"/status/confirm/{subscriber.unsubscribe_token}/").status_code == 404
    subscriber.refresh_from_db()
    assert not subscriber.is_confirmed


def test_json_documents_can_be_read_by_widgets_on_other_sites(client):
    response = client.get("/api/v2/summary.json")
    assert response["Access-Control-Allow-Origin"] == "*"
    json.loads(response.content)


@pytest.mark.parametrize("path", ["/status/", "/status/feed.atom", "/api/v2/summary.json", "/status/badge.svg"])
def test_public_answers_do_not_vary_on_the_visitors_cookies_so_a_shared_cache_can_keep_them(path):
    response = Client().get(path, HTTP_COOKIE="sessionid=someone-elses")
    assert response.status_code == 200 and "Cookie" not in response.get("Vary", "")


@pytest.mark.parametrize("path", ["/status/subscribe/", "/status/subscribe/webhooks/"])
@pytest.mark.parametrize("field", ["components", "groups"])
@pytest.mark.parametrize("value", ["99999999999999999999999", "²", "1.5", "-1"])
def test_an_id_no_component_could_have_is_a_form_error_on_every_subscribe_form_not_a_500(client, path, field, value):
    response = client.post(path, {"email": "reader@example.com", "kind": "webhook",
                                  "url": "https://hooks.example.com/x", field: [value]})
    assert response.status_code == 400


def test_the_page_is_sent_without_the_templates_indentation_but_with_every_word(client, lead):
    incident = open_public_incident(lead)
    post_update(incident, lead, "Checkout   is slow", explain="Card payments\ntake longer.  We are on it.")

    page = text_of(client.get("/status/"))

    assert "\n " not in page and "\n\t" not in page and "\n\n" not in page  # indentation and blank lines dropped
    assert "Checkout   is slow" in page  # spaces inside a line are the text's own: kept
    assert "Card payments" in page and "take longer.  We are on it." in page
