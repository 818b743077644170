"""Maintenance windows as the public sees them: the Statuspage-compatible v2 documents
(/api/v2/scheduled-maintenances.json, …/upcoming.json, …/active.json and summary.json's scheduled_maintenances),
the iCalendar feed (/status/maintenance.ics), the status page's "upcoming maintenance" section and the feed's
entries.

Only windows a communications lead approved as they stand (Maintenance.objects.public()) ever leave this module,
and only their public fields: a draft, a window waiting for (re-)approval, one cancelled before it was ever approved
and every window's internal notes never do."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import icalendar
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from comms.maintenance.rendering import PART_LABELS, window_text
from comms.rendering import status_page_url
from comms.statuspage import data
from incidents.choices import MaintenanceState
from incidents.models import Component, Maintenance

SHOWN_DAYS = 90  # completed windows stay in scheduled-maintenances.json and the calendar this long
LIMIT = 50
IMPACT = "maintenance"
# Statuspage's own wording for the updates it writes at each move of a maintenance.
STATE_UPDATE_BODIES = {
    MaintenanceState.IN_PROGRESS: "Scheduled maintenance is currently in progress. We will provide updates as "
                                  "necessary.",
    MaintenanceState.VERIFYING: "Verification is currently underway for the maintenance items.",
    MaintenanceState.COMPLETED: "The scheduled maintenance has been completed.",
}


def public_windows() -> QuerySet[Maintenance]:
    """Approved windows, never cancelled ones, with their components."""
    return (Maintenance.objects.public().exclude(state=MaintenanceState.CANCELLED)
            .prefetch_related("components").order_by("scheduled_for", "pk"))


def upcoming_windows() -> QuerySet[Maintenance]:
    return public_windows().filter(state=MaintenanceState.SCHEDULED)


def active_windows() -> QuerySet[Maintenance]:
    return public_windows().filter(state__in=(MaintenanceState.IN_PROGRESS, MaintenanceState.VERIFYING))


def recent_windows(now: datetime | None = None) -> QuerySet[Maintenance]:
    since = (now or timezone.now()) - timedelta(days=SHOWN_DAYS)
    return public_windows().exclude(state=MaintenanceState.COMPLETED, completed_at__lt=since)


def body(window: Maintenance) -> str:
    """The public text: each part under its label, as the notices have it."""
    return "\n\n".join(f"{PART_LABELS[name]}: {text.strip()}" for name, text in window.parts().items()
                       if text.strip())


def window_link(window: Maintenance) -> str:
    return f"{status_page_url()}#maintenance-{window.pk}"


# --- Statuspage v2 documents ----------------------------------------------------------------------

def scheduled_maintenances(kind: str = "all") -> dict:
    """{page, scheduled_maintenances}: all recent windows (newest first), upcoming ones, or active ones."""
    windows = {"all": recent_windows, "upcoming": upcoming_windows, "active": active_windows}[kind]()
    if kind == "all":
        windows = windows.order_by("-scheduled_for", "-pk")[:LIMIT]
    return {"page": data._page(), "scheduled_maintenances": documents(list(windows))}


def summary_maintenances() -> list[dict]:
    """summary.json's scheduled_maintenances: the upcoming and in-progress ones, as Statuspage lists them."""
    return documents(list(active_windows()) + list(upcoming_windows()))


def documents(windows: list[Maintenance]) -> list[dict]:
    positions = data._positions(list(Component.objects.all()))
    return [_document(window, positions) for window in windows]


def _document(window: Maintenance, positions) -> dict:
    updates = _updates(window)
    return {
        "id": str(window.pk),
        "name": window.title,
        "status": window.state,
        "created_at": data._iso(window.published_at),
        "updated_at": data._iso(max(update["at"] for update in updates)),
        "monitoring_at": data._iso(window.verifying_at),
        "resolved_at": data._iso(window.completed_at),
        "impact": IMPACT,
        "shortlink": window_link(window),
        "started_at": data._iso(window.started_at or window.scheduled_for),
        "page_id": data.page_id(),
        "scheduled_for": data._iso(window.scheduled_for),
        "scheduled_until": data._iso(window.scheduled_until),
        "incident_updates": [_update(window, update) for update in reversed(updates)],
        "components": [data._component(component, positions) for component in window.components.all()],
    }


def _updates(window: Maintenance) -> list[dict]:
    """Oldest first: the announcement, a reschedule (when approved again), then each move."""
    body_text = body(window)
    updates = [{"key": "scheduled", "status": MaintenanceState.SCHEDULED, "at": window.published_at,
                "body": body_text}]
    if window.schedule_version and window.approved_at and window.approved_at > window.published_at:
        updates.append({"key": f"rescheduled-{window.schedule_version}", "status": MaintenanceState.SCHEDULED,
                        "at": window.approved_at, "body": f"Rescheduled: it now runs {window_text(window)}."})
    for state, at in ((MaintenanceState.IN_PROGRESS, window.started_at),
                      (MaintenanceState.VERIFYING, window.verifying_at),
                      (MaintenanceState.COMPLETED, window.completed_at)):
        if at is not None:
            updates.append({"key": state, "status": state, "at": at, "body": STATE_UPDATE_BODIES[state]})
    return updates


def _update(window: Maintenance, update: dict) -> dict:
    at = data._iso(update["at"])
    return {
        "id": f"{window.pk}-{update['key']}",
        "status": update["status"],
        "body": update["body"],
        "incident_id": str(window.pk),
        "created_at": at,
        "updated_at": at,
        "display_at": at,
        "affected_components": None,
        "deliver_notifications": True,
        "custom_tweet": None,
        "tweet_id": None,
    }


# --- iCalendar -------------------------------------------------------------------------------------

def calendar() -> bytes:
    """/status/maintenance.ics: every recent or upcoming approved window as an event; a window cancelled after it
    was approved stays as a cancelled event (with a higher SEQUENCE) so that calendars drop it."""
    since = timezone.now() - timedelta(days=SHOWN_DAYS)
    windows = (Maintenance.objects.public().filter(scheduled_until__gte=since)
               .prefetch_related("components").order_by("scheduled_for", "pk"))
    cal = icalendar.Calendar()
    cal.add("prodid", f"-//{settings.STATUS_PAGE_NAME}//EARS maintenance//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"{settings.STATUS_PAGE_NAME} maintenance")
    host = status_page_url().split("//", 1)[-1].split("/", 1)[0]
    for window in windows:
        event = icalendar.Event()
        event.add("uid", f"maintenance-{window.pk}@{host}")
        event.add("dtstamp", window.updated_at)
        event.add("last-modified", window.updated_at)
        event.add("dtstart", window.scheduled_for)
        event.add("dtend", window.scheduled_until)
        event.add("summary", f"Maintenance: {window.title}")
        components = ", ".join(component.name for component in window.components.all())
        event.add("description", body(window) + (f"\n\nAffects: {components}" if components else ""))
        event.add("url", window_link(window))
        cancelled = window.state == MaintenanceState.CANCELLED
        event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        event.add("sequence", window.schedule_version + (1 if cancelled else 0))
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return cal.to_ical()


# --- The status page and the feed ----------------------------------------------------------------

def page_windows() -> dict:
    """The HTML page's sections: windows in progress (or verifying), and upcoming ones."""
    return {"active_maintenances": list(active_windows()), "upcoming_maintenances": list(upcoming_windows())}


@dataclass(frozen=True)
class FeedEntry:
    """One public moment of a window, as an entry of the Atom feed."""

    window: Maintenance
    key: str
    status: str
    at: datetime
    text: str

    @property
    def title(self) -> str:
        return f"[Maintenance · {MaintenanceState(self.status).label}] {self.window.title}"


def feed_entries() -> list[FeedEntry]:
    entries = []
    for window in recent_windows().order_by("-scheduled_for", "-pk")[:LIMIT]:
        for update in _updates(window):
            text = update["body"]
            if update["key"] == "scheduled":
                text = f"{window_text(window)}\n\n{text}"
            entries.append(FeedEntry(window, update["key"], update["status"], update["at"], text))
    return sorted(entries, key=lambda entry: entry.at, reverse=True)[:LIMIT]
