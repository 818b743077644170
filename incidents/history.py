"""Components' status history read from the database into incidents.uptime's arithmetic: the status page's 90-day
bars, the uptime API and the accounts' SLA calculator all read it here, in a fixed number of queries."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal

from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from incidents import uptime
from incidents.models import Component, ComponentGroup, ComponentStatusChange, Incident

BAR_DAYS = 90
SHORT_DAYS = 30


def spans_by_component(components: Sequence[Component], start: datetime, end: datetime) -> dict[int, list[uptime.Span]]:
    """Each component's status spans from start to end (clipped to now): two queries whatever the count."""
    end = min(end, timezone.now())
    ids = [component.pk for component in components]
    last_before = Subquery(
        ComponentStatusChange.objects.filter(component=OuterRef("pk"), at__lte=start).order_by("-at", "-id")
        .values("pk")[:1]
    )
    earlier = Component.objects.filter(pk__in=ids).annotate(last=last_before).values_list("last", flat=True)
    rows = ComponentStatusChange.objects.filter(
        Q(component__in=ids, at__gt=start, at__lt=end) | Q(pk__in=[pk for pk in earlier if pk])
    ).values_list("component_id", "at", "from_status", "to_status")
    changes: dict[int, list[uptime.StatusChange]] = {pk: [] for pk in ids}
    for component_id, at, from_status, to_status in rows:
        changes[component_id].append(uptime.StatusChange(at, from_status, to_status))
    return {
        component.pk: uptime.spans(changes[component.pk], current_status=component.status, start=start, end=end,
                                   known_since=component.created_at)
        for component in components
    }


def public_incidents_by_component(component_ids: Sequence[int], start: datetime, end: datetime
                                  ) -> dict[int, list[uptime.IncidentWindow]]:
    """The public incidents that touched each component between start and end; internal ones never."""
    incidents = (
        Incident.objects.public()
        .filter(components__in=component_ids, started_at__lt=end)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=start))
        .distinct()
        .prefetch_related("components")
        .order_by("started_at", "id")
    )
    found: dict[int, list[uptime.IncidentWindow]] = {pk: [] for pk in component_ids}
    for incident in incidents:
        window = uptime.IncidentWindow(incident.pk, incident.title, incident.started_at,
                                       None if incident.is_open else incident.resolved_at)
        for component in incident.components.all():
            if component.pk in found:
                found[component.pk].append(window)
    return found


@dataclass
class UptimeHistory:
    """One row of bars: a component's (or a group's) days, oldest first, and its uptime over the last 30 and 90."""

    days: list[uptime.DaySummary]
    percent_short: Decimal | None
    percent_long: Decimal | None


def _history(spans, incidents, first_day, last_day, zone, now) -> UptimeHistory:
    summaries = uptime.days(spans, first_day, last_day, zone, incidents, now=now)
    short_start, _ = uptime.day_bounds(last_day - timedelta(days=SHORT_DAYS - 1), zone)
    long_start, _ = uptime.day_bounds(first_day, zone)
    return UptimeHistory(summaries, uptime.uptime_percent(spans, short_start, now),
                         uptime.uptime_percent(spans, long_start, now))


def page_histories(components: Sequence[Component], groups: Sequence[ComponentGroup], zone: tzinfo,
                   now: datetime | None = None) -> tuple[dict[int, UptimeHistory], dict[int, UptimeHistory]]:
    """The status page's bars: the last 90 days (today included) of each component and each group, by id.
    A group's components are those in `components` whose group it is."""
    now = now or timezone.now()
    last_day = timezone.localtime(now, zone).date()
    first_day = last_day - timedelta(days=BAR_DAYS - 1)
    start, _ = uptime.day_bounds(first_day, zone)
    spans = spans_by_component(components, start, now)
    incidents = public_incidents_by_component([component.pk for component in components], start, now)
    by_component = {
        component.pk: _history(spans[component.pk], incidents[component.pk], first_day, last_day, zone, now)
        for component in components
    }
    by_group = {}
    for group in groups:
        members = [component for component in components if component.group_id == group.pk]
        windows = {window.id: window for member in members for window in incidents[member.pk]}
        group_spans = uptime.combined([spans[member.pk] for member in members])
        by_group[group.pk] = _history(group_spans, sorted(windows.values(), key=lambda w: (w.start, w.id)),
                                      first_day, last_day, zone, now)
    return by_component, by_group


def report(components: Sequence[Component], first_day: date, last_day: date, zone: tzinfo) -> dict:
    """The uptime API's answer for one component (or a group's components taken together) over whole days."""
    now = timezone.now()
    start, _ = uptime.day_bounds(first_day, zone)
    _, end = uptime.day_bounds(last_day, zone)
    spans = spans_by_component(components, start, end)
    incidents = public_incidents_by_component([component.pk for component in components], start, end)
    combined = uptime.combined(list(spans.values())) if len(components) > 1 else spans[components[0].pk]
    windows = {window.id: window for found in incidents.values() for window in found}
    summaries = uptime.days(combined, first_day, last_day, zone,
                            sorted(windows.values(), key=lambda w: (w.start, w.id)), now=now)
    totals = uptime.seconds_by_status(combined, start, end)
    return {
        "from": first_day.isoformat(),
        "to": last_day.isoformat(),
        "time_zone": str(zone),
        "uptime_percent": _text(uptime.uptime_percent(combined, start, end)),
        "down_minutes": _text(uptime.down_minutes(combined, start, end).quantize(Decimal("0.1"))),
        "known_minutes": _text(Decimal(sum(totals.values()) / 60).quantize(Decimal("0.1"))),
        "days": [
            {
                "date": summary.day.isoformat(),
                "status": summary.status,
                "uptime_percent": _text(summary.uptime_percent),
                "down_minutes": _text(summary.down_minutes),
                "minutes_by_status": {status: round(seconds / 60, 1)
                                      for status, seconds in sorted(summary.seconds_by_status.items())},
                "incidents": [{"id": window.id, "title": window.title} for window in summary.incidents],
            }
            for summary in summaries
        ],
    }


def _text(number: Decimal | None) -> str | None:
    return None if number is None else f"{number:f}"


def weighted_down_minutes(components: Sequence[Component], start: datetime, end: datetime) -> Decimal:
    """Minutes any of the components was down between start and end (at each moment the worst of them counts,
    weighted as incidents.uptime says): what an account using them lost."""
    if not components:
        return Decimal(0)
    spans = spans_by_component(components, start, end)
    return uptime.down_minutes(uptime.combined(list(spans.values())), start, end)
