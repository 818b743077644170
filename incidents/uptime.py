"""Uptime from a component's status history: pure arithmetic on times, no database (the callers read the rows).

The rules, as Atlassian Statuspage's uptime showcase counts them (docs/api.md "Uptime"):

- a component is *down* while in major outage (weight 1: every minute counts) or partial outage (weight 0.3: ten
  minutes count as three); degraded performance shows on the day's colour but is not downtime (weight 0), and
  under maintenance never counts as downtime;
- uptime % = 100 × (1 − weighted down minutes ÷ minutes with data), rounded down to two decimals, so a day with
  any downtime never reads 100 %; time before the component existed (or before its first recorded change, when
  the status before that is not known) is "no data" and counts neither way;
- days run from midnight to midnight in the given time zone, so a day across a DST change has 23 or 25 hours;
- each day's colour is the worst status it saw (major > partial > degraded > maintenance > operational);
- a group is, at each moment, as bad as its worst component (components without data are left out).

All times are aware datetimes; the arithmetic is done in UTC, where subtraction counts real elapsed time.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal

OPERATIONAL = "operational"
DEGRADED_PERFORMANCE = "degraded_performance"
PARTIAL_OUTAGE = "partial_outage"
MAJOR_OUTAGE = "major_outage"
UNDER_MAINTENANCE = "under_maintenance"

# Least to most severe: a day's colour and a group's status are the worst of what they contain.
STATUS_RANK = {OPERATIONAL: 0, UNDER_MAINTENANCE: 1, DEGRADED_PERFORMANCE: 2, PARTIAL_OUTAGE: 3, MAJOR_OUTAGE: 4}
# How much of a minute in each status counts as a minute down (Statuspage's weights).
DOWNTIME_WEIGHTS = {
    OPERATIONAL: Decimal(0),
    UNDER_MAINTENANCE: Decimal(0),
    DEGRADED_PERFORMANCE: Decimal(0),
    PARTIAL_OUTAGE: Decimal("0.3"),
    MAJOR_OUTAGE: Decimal(1),
}
PERCENT = Decimal("0.01")


def worst_status(statuses: Iterable[str | None]) -> str:
    """The most severe of the statuses (unknown ones left out); operational when there is none."""
    return max((status for status in statuses if status), key=STATUS_RANK.__getitem__, default=OPERATIONAL)


@dataclass(frozen=True)
class StatusChange:
    at: datetime
    from_status: str  # "" when the status before is not known
    to_status: str


@dataclass(frozen=True)
class Span:
    start: datetime
    end: datetime
    status: str | None  # None: no data

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class IncidentWindow:
    """A public incident that touched the component: from its start to its resolution (None: still open)."""

    id: int
    title: str
    start: datetime
    end: datetime | None


@dataclass
class DaySummary:
    day: date
    status: str | None  # the worst status of the day; None when there is no data for any of it
    seconds_by_status: dict[str, float] = field(default_factory=dict)
    incidents: list[IncidentWindow] = field(default_factory=list)

    @property
    def known_minutes(self) -> Decimal:
        return Decimal(sum(self.seconds_by_status.values()) / 60)

    @property
    def down_minutes(self) -> Decimal:
        """Weighted, to a tenth of a minute."""
        return _weighted_minutes(self.seconds_by_status).quantize(Decimal("0.1"))

    @property
    def minutes_down_whole(self) -> int:
        """For the page's label: whole minutes, rounded up, so a minute of downtime never reads as none."""
        minutes = _weighted_minutes(self.seconds_by_status)
        return int(minutes.to_integral_value(rounding=ROUND_CEILING))

    @property
    def uptime_percent(self) -> Decimal | None:
        return _percent(self.seconds_by_status)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("uptime arithmetic needs aware datetimes")
    return moment.astimezone(UTC)


def spans(
    changes: Sequence[StatusChange],
    *,
    current_status: str,
    start: datetime,
    end: datetime,
    known_since: datetime | None = None,
) -> list[Span]:
    """The component's status from start to end as consecutive spans (equal neighbours merged).

    `changes` may reach before start (the last of those gives the status at the start); with none before it, the
    status at the start is what the first later change moved away from, or, with no change at all, the current
    status. Before known_since (when the component was created) there is no data.
    """
    start, end = _utc(start), _utc(end)
    if end <= start:
        return []
    ordered = sorted(changes, key=lambda change: change.at)
    before = [change for change in ordered if _utc(change.at) <= start]
    after = [change for change in ordered if _utc(change.at) > start]
    if before:
        status = before[-1].to_status
    elif after:
        status = after[0].from_status or None
    else:
        status = current_status
    result = []
    cursor = start
    for change in after:
        at = _utc(change.at)
        if at >= end:
            break
        result.append(Span(cursor, at, status))
        cursor, status = at, change.to_status
    result.append(Span(cursor, end, status))
    if known_since is not None:
        result = _clip_unknown_before(result, _utc(known_since))
    return _merged(result)


def _clip_unknown_before(items: list[Span], known_since: datetime) -> list[Span]:
    clipped = []
    for span in items:
        if span.end <= known_since:
            clipped.append(Span(span.start, span.end, None))
        elif span.start < known_since:
            clipped += [Span(span.start, known_since, None), Span(known_since, span.end, span.status)]
        else:
            clipped.append(span)
    return clipped


def _merged(items: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for span in items:
        if span.end <= span.start:
            continue
        if merged and merged[-1].status == span.status and merged[-1].end == span.start:
            merged[-1] = Span(merged[-1].start, span.end, span.status)
        else:
            merged.append(span)
    return merged


def status_at(items: Sequence[Span], moment: datetime) -> str | None:
    for span in items:
        if span.start <= moment < span.end:
            return span.status
    return None


def combined(span_lists: Sequence[Sequence[Span]]) -> list[Span]:
    """A group's spans: at each moment the worst status of its components; no data only where none has any."""
    boundaries = sorted({moment for items in span_lists for span in items for moment in (span.start, span.end)})
    result = []
    for start, end in zip(boundaries, boundaries[1:], strict=False):
        statuses = [status_at(items, start) for items in span_lists]
        known = [status for status in statuses if status]
        result.append(Span(start, end, worst_status(known) if known else None))
    return _merged(result)


def day_bounds(day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """Midnight to midnight in the zone, in UTC (23 or 25 hours apart across a DST change)."""
    start = datetime.combine(day, time.min).replace(tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min).replace(tzinfo=zone)
    return _utc(start), _utc(end)


def seconds_by_status(items: Sequence[Span], start: datetime, end: datetime) -> dict[str, float]:
    """Seconds spent in each status between start and end (no data left out)."""
    start, end = _utc(start), _utc(end)
    totals: dict[str, float] = {}
    for span in items:
        if span.status is None:
            continue
        overlap = (min(span.end, end) - max(span.start, start)).total_seconds()
        if overlap > 0:
            totals[span.status] = totals.get(span.status, 0.0) + overlap
    return totals


def _weighted_minutes(totals: dict[str, float]) -> Decimal:
    return sum(
        (Decimal(seconds) * DOWNTIME_WEIGHTS[status] / 60 for status, seconds in totals.items()), Decimal(0)
    )


def _percent(totals: dict[str, float]) -> Decimal | None:
    known = Decimal(sum(totals.values())) / 60
    if not known:
        return None
    return (100 * (1 - _weighted_minutes(totals) / known)).quantize(PERCENT, ROUND_DOWN)


def down_minutes(items: Sequence[Span], start: datetime, end: datetime) -> Decimal:
    """Weighted minutes down between start and end (exact; round where it is shown)."""
    return _weighted_minutes(seconds_by_status(items, start, end))


def uptime_percent(items: Sequence[Span], start: datetime, end: datetime) -> Decimal | None:
    """Uptime between start and end over the minutes with data; None when there is none."""
    return _percent(seconds_by_status(items, start, end))


def days(
    items: Sequence[Span],
    first_day: date,
    last_day: date,
    zone: tzinfo,
    incidents: Sequence[IncidentWindow] = (),
    now: datetime | None = None,
) -> list[DaySummary]:
    """One summary per day from first_day to last_day (inclusive), in the zone; each with the incidents that
    overlapped it (an open one runs until now)."""
    now = _utc(now or datetime.now(UTC))
    result = []
    day = first_day
    while day <= last_day:
        start, end = day_bounds(day, zone)
        totals = seconds_by_status(items, start, end)
        touching = [
            incident for incident in incidents
            if _utc(incident.start) < end and _utc(incident.end or now) >= start
        ]
        result.append(DaySummary(day, worst_status(totals) if totals else None, totals, touching))
        day += timedelta(days=1)
    return result
