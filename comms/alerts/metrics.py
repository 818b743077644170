"""Time from alert to first public acknowledgement.

The alert time is when the first alert of an incident reached us (Alert.received_at: what comms can act on; the
sender's startsAt may be earlier by its own grouping delay). The acknowledgement is Incident.acknowledged_at, set
when the first public message goes out (comms.delivery.dispatch → incidents.cadence.record_public_update). The
dashboard's medians count incidents an alert opened, by their first alert's time, among those acknowledged."""

import statistics
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Min
from django.utils import timezone

from comms.models import Alert
from incidents.models import Incident


@dataclass
class AcknowledgementTimes:
    first_alert_at: object  # datetime | None
    acknowledged_at: object
    elapsed: timedelta | None  # None: no alert, not acknowledged yet, or acknowledged before the first alert


def for_incident(incident: Incident) -> AcknowledgementTimes | None:
    """None for an incident no alert opened or joined."""
    first = incident.alerts.aggregate(first=Min("received_at"))["first"]
    if first is None:
        return None
    acknowledged = incident.acknowledged_at
    elapsed = acknowledged - first if acknowledged is not None and acknowledged >= first else None
    return AcknowledgementTimes(first, acknowledged, elapsed)


@dataclass
class MedianTime:
    days: int
    median: timedelta | None
    acknowledged: int  # incidents counted
    opened: int  # incidents an alert opened in the period, acknowledged or not


def median_times(periods=(30, 90), now=None) -> list[MedianTime]:
    """The median time from alert to first public acknowledgement over each period (by the first alert's time),
    for incidents an alert opened."""
    now = now or timezone.now()
    longest = now - timedelta(days=max(periods))
    opened = (Incident.objects.filter(alerts__outcome=Alert.Outcome.OPENED)
              .annotate(first_alert=Min("alerts__received_at")).filter(first_alert__gte=longest)
              .values_list("first_alert", "acknowledged_at"))
    rows = list(opened)
    results = []
    for days in periods:
        since = now - timedelta(days=days)
        inside = [(first, acknowledged) for first, acknowledged in rows if first >= since]
        elapsed = [acknowledged - first for first, acknowledged in inside
                   if acknowledged is not None and acknowledged >= first]
        median = timedelta(seconds=statistics.median(e.total_seconds() for e in elapsed)) if elapsed else None
        results.append(MedianTime(days, median, len(elapsed), len(inside)))
    return results

