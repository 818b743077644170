"""The update cadence: when an open incident's next public update is due, by severity."""

from django.conf import settings
from django.utils import timezone

from incidents.models import Incident


def cadence_minutes(severity: str) -> int:
    return settings.UPDATE_CADENCE_MINUTES.get(severity, 0)


def next_due(severity: str, since):
    minutes = cadence_minutes(severity)
    return since + timezone.timedelta(minutes=minutes) if minutes else None


def schedule_next_update(incident, since=None) -> None:
    """Set next_update_due_at on the (unsaved) incident from its severity; none once it is resolved."""
    if not incident.is_open:
        incident.next_update_due_at = None
        return
    since = since or incident.last_public_update_at or incident.detected_at or incident.started_at
    incident.next_update_due_at = next_due(incident.severity, since)


def record_public_update(incident, at) -> None:
    """A public message went out: stamp the first acknowledgement and restart the cadence."""
    if incident.acknowledged_at is None:
        incident.acknowledged_at = at
    incident.last_public_update_at = at
    schedule_next_update(incident, since=at)
    Incident.objects.filter(pk=incident.pk).update(
        acknowledged_at=incident.acknowledged_at,
        last_public_update_at=at,
        next_update_due_at=incident.next_update_due_at,
    )


def overdue_incidents(now=None):
    """Open incidents whose update is overdue and whose leads have not been reminded in this period."""
    from incidents.models import Incident

    now = now or timezone.now()
    for incident in Incident.objects.open().filter(next_update_due_at__lte=now):
        period = timezone.timedelta(minutes=cadence_minutes(incident.severity) or 30)
        reminded = incident.overdue_reminded_at
        if reminded is None or reminded < incident.next_update_due_at or now - reminded >= period:
            yield incident
