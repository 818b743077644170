"""What the public may see, and the Statuspage-compatible JSON.

The JSON documents have the field names and shapes of Atlassian Statuspage's public v2 API
(/api/v2/summary.json and friends), so status aggregators can read them unchanged. Ids are strings, as
there. Only *published public updates* ever leave this module: messages with a published_at and the
public audience. Drafts, internal or account messages and an incident's internal notes never do.
"""

import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, Max, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from comms.choices import Audience
from comms.models import Message
from comms.rendering import body_paragraphs, customer_text, status_page_url
from incidents.choices import OPEN_STATUSES, SEVERITY_IMPACT, ComponentStatus, IncidentStatus, TimelineKind
from incidents.models import Component, ComponentGroup, Incident, TimelineEntry

RESOLVED_SHOWN_DAYS = 90  # resolved incidents stay on the HTML page this long
INCIDENT_LIMIT = 50  # incidents in incidents.json, entries in the Atom feed

# Statuspage's indicator levels, least to most severe, and its wording for each.
INDICATORS = ("none", "minor", "major", "critical")
INDICATOR_DESCRIPTIONS = {
    "none": "All Systems Operational",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major Service Outage",
}
MAINTENANCE_DESCRIPTION = "Service Under Maintenance"
COMPONENT_INDICATOR = {
    ComponentStatus.OPERATIONAL: "none",
    ComponentStatus.DEGRADED_PERFORMANCE: "minor",
    ComponentStatus.UNDER_MAINTENANCE: "minor",
    ComponentStatus.PARTIAL_OUTAGE: "major",
    ComponentStatus.MAJOR_OUTAGE: "critical",
}
# Timeline entries that change what the public sees of an incident (not internal edits or notes).
PUBLIC_TIMELINE_KINDS = (TimelineKind.CREATED, TimelineKind.STATUS, TimelineKind.COMPONENTS, TimelineKind.PUBLIC)


def published_updates() -> QuerySet[Message]:
    """Messages that appeared on the status page and were written for the public, of public incidents; nothing
    else."""
    return Message.objects.filter(published_at__isnull=False, audience=Audience.PUBLIC,
                                  incident__public_since__isnull=False)


def with_public_detail(incidents: QuerySet[Incident]) -> QuerySet[Incident]:
    """Prefetch .public_updates (newest first) and components, so the query count does not grow."""
    return incidents.prefetch_related(
        Prefetch("messages", queryset=published_updates().order_by("-published_at", "-id"), to_attr="public_updates"),
        "components",
    )


def page_incidents(now: datetime | None = None) -> tuple[list[Incident], list[Incident]]:
    """The HTML page's incidents: the open ones, and those resolved in the last 90 days (newest first)."""
    since = (now or timezone.now()) - timedelta(days=RESOLVED_SHOWN_DAYS)
    incidents = with_public_detail(
        Incident.objects.public().filter(
            Q(status__in=OPEN_STATUSES)
            | Q(status__in=(IncidentStatus.RESOLVED, IncidentStatus.CLOSED), resolved_at__gte=since)
        )
    )
    open_incidents = [incident for incident in incidents if incident.is_open]
    resolved = sorted(
        (incident for incident in incidents if not incident.is_open), key=lambda i: i.resolved_at, reverse=True
    )
    return open_incidents, resolved


def incident_link(incident: Incident) -> str:
    return f"{status_page_url()}#incident-{incident.pk}"


def status_indicator(component_statuses, open_severities) -> dict:
    """Statuspage's {indicator, description}: the worst component status or open incident impact.

    A component under maintenance alone reads as "minor" with a maintenance description.
    """
    component_statuses = list(component_statuses)
    levels = [
        COMPONENT_INDICATOR[status] for status in component_statuses if status != ComponentStatus.UNDER_MAINTENANCE
    ]
    levels += [SEVERITY_IMPACT[severity] for severity in open_severities]
    worst = max(levels, key=INDICATORS.index, default="none")
    if worst == "none" and ComponentStatus.UNDER_MAINTENANCE in component_statuses:
        return {"indicator": "minor", "description": MAINTENANCE_DESCRIPTION}
    return {"indicator": worst, "description": INDICATOR_DESCRIPTIONS[worst]}


# --- Statuspage v2 documents ----------------------------------------------------------------------


def summary() -> dict:
    all_components = list(Component.objects.all())
    positions = _positions(all_components)
    unresolved = list(_for_api(Incident.objects.public().open()))
    return {
        "page": _page(),
        "components": _component_documents(all_components, positions),
        "incidents": [_incident(incident, positions) for incident in unresolved],
        "scheduled_maintenances": _scheduled_maintenances(),
        "status": status_indicator(
            [component.status for component in all_components], [incident.severity for incident in unresolved]
        ),
    }


def _scheduled_maintenances() -> list[dict]:
    """Upcoming and in-progress maintenance windows (comms.statuspage.maintenance, which builds on this module)."""
    from comms.statuspage.maintenance import summary_maintenances

    return summary_maintenances()


def status() -> dict:
    return {
        "page": _page(),
        "status": status_indicator(
            Component.objects.values_list("status", flat=True),
            Incident.objects.public().open().values_list("severity", flat=True),
        ),
    }


def components() -> dict:
    all_components = list(Component.objects.all())
    positions = _positions(all_components)
    return {"page": _page(), "components": _component_documents(all_components, positions)}


# --- Groups: the page's layout --------------------------------------------------------------------


class GroupRow:
    """A component group as the page shows it: its components (display order) and their worst status."""

    is_group = True

    def __init__(self, group: ComponentGroup, members: list[Component]):
        self.group = group
        self.pk = group.pk
        self.name = group.name
        self.description = group.description
        self.members = members
        self.status = group.status_of(members)
        self.sort_key = (group.position, 0, group.name.casefold())

    def get_status_display(self) -> str:
        return ComponentStatus(self.status).label


def page_rows(all_components: list[Component]) -> list:
    """The page's top level, in order: groups (with at least one component) and the components in no group,
    by position (a group's `position`, a component's `display_order`, on one scale), groups first on a tie."""
    groups = {group.pk: group for group in ComponentGroup.objects.all()}
    members: dict[int, list[Component]] = {}
    rows = []
    for component in all_components:
        if component.group_id in groups:
            members.setdefault(component.group_id, []).append(component)
        else:
            component.is_group = False
            component.sort_key = (component.display_order, 1, component.name.casefold())
            rows.append(component)
    rows += [GroupRow(groups[pk], found) for pk, found in members.items()]
    return sorted(rows, key=lambda row: row.sort_key)


def incidents(unresolved_only: bool = False) -> dict:
    """All unresolved incidents, or the last 50 that are open or have at least one published update."""
    if unresolved_only:
        selected = _for_api(Incident.objects.public().open())
    else:
        has_update = Exists(published_updates().filter(incident=OuterRef("pk")))
        selected = _for_api(
            Incident.objects.public().filter(Q(status__in=OPEN_STATUSES) | has_update)
        )[:INCIDENT_LIMIT]
    positions = _positions(Component.objects.all())
    return {"page": _page(), "incidents": [_incident(incident, positions) for incident in selected]}


def page_id() -> str:
    """Statuspage pages have a short opaque id; ours comes from SITE_URL, so it is stable per deployment."""
    return hashlib.sha256(settings.SITE_URL.encode()).hexdigest()[:12]


def _page() -> dict:
    return {
        "id": page_id(),
        "name": settings.STATUS_PAGE_NAME,
        "url": status_page_url(),
        "time_zone": settings.TIME_ZONE,
        "updated_at": _iso(_last_public_change()),
    }


def _last_public_change() -> datetime:
    times = [
        Component.objects.aggregate(at=Max("updated_at"))["at"],
        ComponentGroup.objects.aggregate(at=Max("updated_at"))["at"],
        published_updates().aggregate(at=Max("published_at"))["at"],
        TimelineEntry.objects.filter(kind__in=PUBLIC_TIMELINE_KINDS, incident__public_since__isnull=False)
        .aggregate(at=Max("at"))["at"],
    ]
    return max((at for at in times if at), default=None) or timezone.now()


def _for_api(incidents: QuerySet[Incident]) -> QuerySet[Incident]:
    return with_public_detail(incidents).prefetch_related(
        Prefetch(
            "timeline",
            queryset=TimelineEntry.objects.filter(kind__in=(TimelineKind.CREATED, TimelineKind.STATUS)),
            to_attr="status_entries",
        )
    )


class Positions:
    """Statuspage positions count from 1: the page's top level (groups and lone components) in page order, and
    a group's components within it. Built once per document from all components."""

    def __init__(self, all_components):
        self.rows = page_rows(list(all_components))
        self.of: dict[int, int] = {}
        self.of_group: dict[int, int] = {}
        for number, row in enumerate(self.rows, start=1):
            if row.is_group:
                self.of_group[row.pk] = number
                self.of.update({member.pk: inner for inner, member in enumerate(row.members, start=1)})
            else:
                self.of[row.pk] = number

    def get(self, pk: int, default: int = 0) -> int:
        return self.of.get(pk, default)


def _positions(all_components) -> Positions:
    return Positions(all_components)


def group_document_id(group_pk: int) -> str:
    """Groups and components share one list in the v2 JSON, so a group's id is set apart from the components'."""
    return f"group-{group_pk}"


def _component_documents(all_components, positions: Positions) -> list[dict]:
    """Statuspage's component list: each group entry (with its components' ids) followed by its components."""
    documents = []
    for row in positions.rows:
        if row.is_group:
            documents.append(_group(row, positions))
            documents += [_component(member, positions) for member in row.members]
        else:
            documents.append(_component(row, positions))
    return documents


def _group(row: "GroupRow", positions: Positions) -> dict:
    group = row.group
    return {
        "id": group_document_id(group.pk),
        "name": group.name,
        "status": row.status,
        "created_at": _iso(group.created_at),
        "updated_at": _iso(max([group.updated_at, *(member.updated_at for member in row.members)])),
        "position": positions.of_group.get(group.pk, 0),
        "description": group.description or None,
        "showcase": False,
        "start_date": None,
        "group_id": None,
        "page_id": page_id(),
        "group": True,
        "only_show_if_degraded": False,
        "components": [str(member.pk) for member in row.members],
    }


def _component(component: Component, positions: Positions) -> dict:
    grouped = component.group_id is not None and component.group_id in positions.of_group
    return {
        "id": str(component.pk),
        "name": component.name,
        "status": component.status,
        "created_at": _iso(component.created_at),
        "updated_at": _iso(component.updated_at),
        "position": positions.get(component.pk, 0),
        "description": component.description or None,
        "showcase": True,
        "start_date": None,
        "group_id": group_document_id(component.group_id) if grouped else None,
        "page_id": page_id(),
        "group": False,
        "only_show_if_degraded": False,
    }


def _monitoring_at(incident: Incident) -> datetime | None:
    """When the incident last moved into monitoring, read from its timeline (None if it never did)."""
    times = [
        entry.at
        for entry in incident.status_entries
        if (entry.kind == TimelineKind.STATUS and entry.data.get("new") == IncidentStatus.MONITORING)
        or (entry.kind == TimelineKind.CREATED and entry.data.get("status") == IncidentStatus.MONITORING)
    ]
    return max(times, default=None)


def _incident(incident: Incident, positions: dict[int, int]) -> dict:
    updates = incident.public_updates
    monitoring_at = _monitoring_at(incident)
    changed = [incident.created_at, incident.resolved_at, monitoring_at, *(update.published_at for update in updates)]
    return {
        "id": str(incident.pk),
        "name": incident.title,
        "status": incident.public_status,
        "created_at": _iso(incident.created_at),
        "updated_at": _iso(max(at for at in changed if at)),
        "monitoring_at": _iso(monitoring_at),
        "resolved_at": _iso(incident.resolved_at),
        "impact": SEVERITY_IMPACT[incident.severity],
        "shortlink": incident_link(incident),
        "started_at": _iso(incident.started_at),
        "page_id": page_id(),
        "incident_updates": _incident_updates(updates, incident),
        "components": [_component(component, positions) for component in incident.components.all()],
    }


def _incident_updates(updates: list[Message], incident: Incident) -> list[dict]:
    """Newest first, as Statuspage lists them; each update's affected components compare the components'
    statuses when it appeared with those at the update before it (operational before the first)."""
    before: dict[int, str] = {}
    documents = []
    for update in reversed(updates):
        affected = [
            {"code": str(item["id"]), "name": item["name"], "old_status": before.get(item["id"], "operational"),
             "new_status": item["status"]}
            for item in update.published_components
        ]
        before.update({item["id"]: item["status"] for item in update.published_components})
        documents.append(_incident_update(update, incident, affected or None))
    return documents[::-1]


def _incident_update(message: Message, incident: Incident, affected_components: list[dict] | None) -> dict:
    """One published update. Statuspage has no headline, so the body starts with ours. Its status is the
    incident's public status when it appeared (the current one for updates published before that was kept)."""
    published = _iso(message.published_at)
    return {
        "id": str(message.pk),
        "status": message.published_status or incident.public_status,
        "body": "\n\n".join([customer_text(message, message.headline), *body_paragraphs(message)]),
        "incident_id": str(incident.pk),
        "created_at": published,
        "updated_at": published,
        "display_at": published,
        "affected_components": affected_components,
        "deliver_notifications": True,
        "custom_tweet": None,
        "tweet_id": None,
    }


def _iso(moment: datetime | None) -> str | None:
    """ISO 8601 in the page's time zone, with milliseconds, as Statuspage writes its times."""
    page_zone = timezone.get_default_timezone()  # the page's, whoever is signed in
    return timezone.localtime(moment, page_zone).isoformat(timespec="milliseconds") if moment else None
