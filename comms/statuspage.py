"""The public status page: its cache, what the public may see, and the Statuspage-compatible JSON.

Everything public is cached under a version that any public change bumps (invalidate_status_page).

The JSON documents have the field names and shapes of Atlassian Statuspage's public v2 API
(/api/v2/summary.json and friends), so status aggregators can read them unchanged. Ids are strings, as
there. Only *published public updates* ever leave this module: messages with a published_at and the
public audience. Drafts, internal or account messages and an incident's internal notes never do.
"""

import hashlib
import secrets
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from comms import export
from comms.choices import (
    OPEN_STATUSES,
    SEVERITY_IMPACT,
    Audience,
    ComponentStatus,
    IncidentStatus,
    TimelineKind,
)
from comms.models import Component, Incident, Message, TimelineEntry
from comms.rendering import body_paragraphs, status_page_url

VERSION_KEY = "statuspage:version"
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
PUBLIC_TIMELINE_KINDS = (TimelineKind.CREATED, TimelineKind.STATUS, TimelineKind.COMPONENTS)


# --- Cache ----------------------------------------------------------------------------------------
#
# Every public body is cached under the current version, in the shared cache (Redis) and, in front of it, in
# each process: a request reads the version (one Redis GET) and, while it has not changed, serves this
# process's copy without fetching or decoding the body again. A change bumps the version, so every process
# sees it on its next request; nothing is ever served under an old version.

_local: dict[str, tuple[str, float, object]] = {}  # name → (version, expires at, prepared body)
_fast_reader: dict = {}  # {"conf": the CACHES entry it was made for, "client": redis client, "key": bytes}


def _new_version() -> int:
    """Random, not a counter: a Redis restarted without persistence must never hand out an old version again."""
    return secrets.randbits(62)


def _read_version() -> str | None:
    """The current version as a string, or None when there is none yet.

    On Redis this is one GET on a client kept for the process: Django's RedisCache builds a new client object
    for every call, which costs more than the GET itself, and this read happens on every request. Versions
    are stored as integers, which Django's Redis serializer writes as their digits, so the raw value is the
    version; anything else (or another cache backend) is read through the cache API.
    """
    conf = settings.CACHES["default"]
    reader = _fast_reader
    if reader.get("conf") is not conf:
        reader.clear()
        reader["conf"] = conf
        location = conf.get("LOCATION")
        plain = isinstance(location, str) and "," not in location and not conf.get("OPTIONS")
        if conf.get("BACKEND", "").endswith("redis.RedisCache") and plain:
            import redis

            reader["client"] = redis.Redis.from_url(location)
            reader["key"] = cache.make_key(VERSION_KEY)
    client = reader.get("client")
    if client is not None:
        raw = client.get(reader["key"])
        if raw is None:
            return None
        if raw.isdigit():
            return raw.decode()
    version = cache.get(VERSION_KEY)
    return None if version is None else str(version)


def current_version() -> str:
    version = _read_version()
    if version is None:
        cache.add(VERSION_KEY, _new_version(), None)
        version = str(cache.get(VERSION_KEY))
    return version


def status_cache_key(name: str) -> str:
    return f"statuspage:{current_version()}:{name}"


def _bump_version() -> None:
    cache.set(VERSION_KEY, _new_version(), None)


def invalidate_status_page() -> None:
    """Call after anything public changes: an incident's status, a component's status, a published update.

    The version changes at once (so the change shows to the code that made it) and again when the transaction
    commits: a visitor who came in between read the old rows and may have cached them under the first new
    version. After the commit the static export (comms.export) is brought up to date by a worker.
    """
    _bump_version()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_bump_version, robust=True)
        transaction.on_commit(export.schedule_export, robust=True)
    else:
        export.schedule_export()  # never raises


def cached(name: str, build, prepare=None):
    """The body cached under name, built by build() on a miss; prepare(body), if given, is what is returned
    (and kept in this process): the bytes a view sends, worked out once per version instead of per request.

    The version is taken before building, so a body built from data that changes meanwhile is stored under
    the old version, which nobody reads any more. This process's copy is kept STATUS_PAGE_CACHE_SECONDS
    from when it was fetched, so time-dependent content ("resolved in the last 90 days") is still rebuilt.
    """
    version = current_version()
    now = time.monotonic()
    held = _local.get(name)
    if held is not None and held[0] == version and held[1] > now:
        return held[2]
    key = f"statuspage:{version}:{name}"
    body = cache.get(key)
    if body is None:
        body = build()
        cache.set(key, body, settings.STATUS_PAGE_CACHE_SECONDS)
    prepared = body if prepare is None else prepare(body)
    _local[name] = (version, now + settings.STATUS_PAGE_CACHE_SECONDS, prepared)
    return prepared


# --- What the public may see ----------------------------------------------------------------------


def published_updates() -> QuerySet[Message]:
    """Messages that appeared on the status page and were written for the public; nothing else."""
    return Message.objects.filter(published_at__isnull=False, audience=Audience.PUBLIC)


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
        Incident.objects.filter(
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
    unresolved = list(_for_api(Incident.objects.open()))
    return {
        "page": _page(),
        "components": [_component(component, positions) for component in all_components],
        "incidents": [_incident(incident, positions) for incident in unresolved],
        "scheduled_maintenances": [],
        "status": status_indicator(
            [component.status for component in all_components], [incident.severity for incident in unresolved]
        ),
    }


def status() -> dict:
    return {
        "page": _page(),
        "status": status_indicator(
            Component.objects.values_list("status", flat=True),
            Incident.objects.open().values_list("severity", flat=True),
        ),
    }


def components() -> dict:
    all_components = list(Component.objects.all())
    positions = _positions(all_components)
    return {"page": _page(), "components": [_component(component, positions) for component in all_components]}


def incidents(unresolved_only: bool = False) -> dict:
    """All unresolved incidents, or the last 50 that are open or have at least one published update."""
    if unresolved_only:
        selected = _for_api(Incident.objects.open())
    else:
        has_update = Exists(published_updates().filter(incident=OuterRef("pk")))
        selected = _for_api(Incident.objects.filter(Q(status__in=OPEN_STATUSES) | has_update))[:INCIDENT_LIMIT]
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
        published_updates().aggregate(at=Max("published_at"))["at"],
        TimelineEntry.objects.filter(kind__in=PUBLIC_TIMELINE_KINDS).aggregate(at=Max("at"))["at"],
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


def _positions(all_components) -> dict[int, int]:
    """Statuspage positions count from 1 in display order."""
    return {component.pk: number for number, component in enumerate(all_components, start=1)}


def _component(component: Component, positions: dict[int, int]) -> dict:
    return {
        "id": str(component.pk),
        "name": component.name,
        "status": component.status,
        # No creation time is stored for a component; its last change is the closest we have.
        "created_at": _iso(component.updated_at),
        "updated_at": _iso(component.updated_at),
        "position": positions.get(component.pk, 0),
        "description": component.description or None,
        "showcase": True,
        "start_date": None,
        "group_id": None,
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
        "incident_updates": [_incident_update(update, incident) for update in updates],
        "components": [_component(component, positions) for component in incident.components.all()],
    }


def _incident_update(message: Message, incident: Incident) -> dict:
    """One published update. Statuspage has no headline, so the body starts with ours.

    Statuspage records the incident's status with each update; we keep no status history per message,
    so every update carries the incident's *current* public status.
    """
    published = _iso(message.published_at)
    return {
        "id": str(message.pk),
        "status": incident.public_status,
        "body": "\n\n".join([message.headline, *body_paragraphs(message)]),
        "incident_id": str(incident.pk),
        "created_at": published,
        "updated_at": published,
        "display_at": published,
        "affected_components": None,
        "deliver_notifications": True,
        "custom_tweet": None,
        "tweet_id": None,
    }


def _iso(moment: datetime | None) -> str | None:
    """ISO 8601 in the page's time zone, with milliseconds, as Statuspage writes its times."""
    return timezone.localtime(moment).isoformat(timespec="milliseconds") if moment else None
