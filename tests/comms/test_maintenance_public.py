"""Maintenance windows in public: the Statuspage v2 documents, the calendar, the status page and its feed show a
window only once a lead approved it, and never its internal notes."""

import icalendar
import pytest
from django.utils import timezone

from comms.maintenance import approval
from comms.statuspage.export import render_export
from incidents import maintenance as windows
from tests.factories import ComponentFactory, UserFactory

pytestmark = pytest.mark.django_db
HOUR = timezone.timedelta(hours=1)
PUBLIC_URLS = ("/status/", "/status/feed.atom", "/status/maintenance.ics", "/api/v2/summary.json",
               "/api/v2/scheduled-maintenances.json", "/api/v2/scheduled-maintenances/upcoming.json",
               "/api/v2/scheduled-maintenances/active.json")
SECRET = "Runbook DB-42: call Sam on 555-0100"


@pytest.fixture
def second_lead(db):
    return UserFactory(username="second-lead", role="Communications lead")


def window(author, title="Database upgrade", starts_in=HOUR * 30, components=(), **fields):
    now = timezone.now()
    return windows.create_maintenance(
        author=author, components=components, title=title, what="We upgrade the main database.",
        customer_impact="Writes pause for a minute.", internal_notes=SECRET,
        scheduled_for=now + starts_in, scheduled_until=now + starts_in + HOUR, **fields)


def approved(author, approver, **kwargs):
    created = window(author, **kwargs)
    approval.submit(created, actor=author)
    return approval.approve(created, actor=approver)


def everything_public(client) -> str:
    return "\n".join(client.get(url).content.decode() for url in PUBLIC_URLS)


def test_unapproved_and_cancelled_before_approval_windows_appear_nowhere_public(client, lead):
    window(lead, title="Draft window")
    submitted = window(lead, title="Submitted window")
    approval.submit(submitted, actor=lead)
    cancelled = window(lead, title="Cancelled window")
    approval.submit(cancelled, actor=lead)
    windows.cancel(cancelled, actor=lead)

    shown = everything_public(client)
    for title in ("Draft window", "Submitted window", "Cancelled window", "We upgrade"):
        assert title not in shown
    export = b"".join(render_export().values())
    assert b"Draft window" not in export and b"Submitted window" not in export


def test_an_approved_window_shows_everywhere_public_but_never_its_internal_notes(client, lead, second_lead):
    assert "Database upgrade" not in client.get("/status/").content.decode()  # cached before it is approved
    approved(lead, second_lead)

    for url in PUBLIC_URLS:
        body = client.get(url).content.decode()
        assert ("Database upgrade" in body) is not url.endswith("active.json"), url  # upcoming, not active
        assert "Runbook" not in body and "555-0100" not in body, url
    page = client.get("/status/").content.decode()
    assert "Upcoming maintenance" in page and "Writes pause for a minute." in page
    export = render_export()
    assert "api/v2/scheduled-maintenances.json" in export and "status/maintenance.ics" in export
    assert b"Runbook" not in b"".join(export.values())


def test_a_window_edited_after_approval_leaves_the_public_until_approved_again(client, lead, second_lead):
    shown = approved(lead, second_lead)
    assert "Database upgrade" in client.get("/api/v2/scheduled-maintenances/upcoming.json").content.decode()
    windows.update_maintenance(shown, actor=lead, title="Database upgrade, part two")
    assert "Database upgrade" not in everything_public(client)


def test_the_v2_documents_have_statuspages_fields_and_types(client, lead, second_lead):
    api = ComponentFactory(name="API")
    upcoming = approved(lead, second_lead, components=[api])
    active = approved(lead, second_lead, title="Cache migration", starts_in=-timezone.timedelta(minutes=5),
                      components=[api])
    windows.move_due_windows()

    document = client.get("/api/v2/scheduled-maintenances.json").json()
    assert set(document) == {"page", "scheduled_maintenances"}
    assert set(document["page"]) == {"id", "name", "url", "time_zone", "updated_at"}
    first = document["scheduled_maintenances"][0]
    assert set(first) == {"id", "name", "status", "created_at", "updated_at", "monitoring_at", "resolved_at",
                          "impact", "shortlink", "started_at", "page_id", "scheduled_for", "scheduled_until",
                          "incident_updates", "components"}
    assert all(isinstance(first[key], str) for key in ("id", "name", "status", "created_at", "updated_at",
                                                       "impact", "shortlink", "scheduled_for", "scheduled_until"))
    assert first["impact"] == "maintenance"
    update = first["incident_updates"][0]
    assert set(update) >= {"id", "status", "body", "incident_id", "created_at", "updated_at", "display_at",
                           "affected_components"}
    assert first["components"][0]["id"] == str(api.pk) and first["components"][0]["status"] == "under_maintenance"

    upcoming_doc = client.get("/api/v2/scheduled-maintenances/upcoming.json").json()["scheduled_maintenances"]
    active_doc = client.get("/api/v2/scheduled-maintenances/active.json").json()["scheduled_maintenances"]
    assert [(item["id"], item["status"]) for item in upcoming_doc] == [(str(upcoming.pk), "scheduled")]
    assert [(item["id"], item["status"]) for item in active_doc] == [(str(active.pk), "in_progress")]
    assert [item["status"] for item in active_doc[0]["incident_updates"]] == ["in_progress", "scheduled"]
    summary = client.get("/api/v2/summary.json").json()["scheduled_maintenances"]
    assert [item["id"] for item in summary] == [str(active.pk), str(upcoming.pk)]


def test_the_calendar_has_one_event_per_window_and_a_cancelled_one_reads_cancelled(client, lead, second_lead):
    kept = approved(lead, second_lead)
    dropped = approved(lead, second_lead, title="Network switch swap")
    windows.cancel(dropped, actor=lead)

    response = client.get("/status/maintenance.ics")
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    events = {str(event["summary"]): event for event in icalendar.Calendar.from_ical(response.content).walk("VEVENT")}
    assert set(events) == {"Maintenance: Database upgrade", "Maintenance: Network switch swap"}
    event = events["Maintenance: Database upgrade"]
    assert event.decoded("dtstart") == kept.scheduled_for.replace(microsecond=0) or \
        event.decoded("dtstart") == kept.scheduled_for
    assert str(event["status"]) == "CONFIRMED"
    assert str(events["Maintenance: Network switch swap"]["status"]) == "CANCELLED"
    assert int(events["Maintenance: Network switch swap"]["sequence"]) == 1
    # Cancelled windows leave the JSON; they stay in the calendar only to be removed from calendars.
    assert "Network switch swap" not in client.get("/api/v2/scheduled-maintenances.json").content.decode()


def test_the_feed_has_an_entry_when_a_window_is_announced_and_when_it_starts(client, lead, second_lead):
    approved(lead, second_lead, starts_in=-timezone.timedelta(minutes=1))
    windows.move_due_windows()
    feed = client.get("/status/feed.atom").content.decode()
    assert "[Maintenance · Scheduled] Database upgrade" in feed
    assert "[Maintenance · In progress] Database upgrade" in feed
