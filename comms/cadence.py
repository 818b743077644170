"""The update cadence: when an open incident's next public update is due, by severity."""

from django.conf import settings
from django.utils import timezone

from comms.choices import TimelineKind


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
    from comms.models import Incident

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
    from comms.models import Incident

    now = now or timezone.now()
    for incident in Incident.objects.open().filter(next_update_due_at__lte=now):
        period = timezone.timedelta(minutes=cadence_minutes(incident.severity) or 30)
        reminded = incident.overdue_reminded_at
        if reminded is None or reminded < incident.next_update_due_at or now - reminded >= period:
            yield incident


def remind_overdue(now=None) -> int:
    """Email communications leads and notify internal webhooks, once per overdue period per incident."""
    from django.contrib.auth import get_user_model

    from comms.models import Incident
    from comms.notify import notify_internal_webhooks, notify_people
    from comms.roles import COMMS_LEAD
    from comms.services import record

    now = now or timezone.now()
    reminded = 0
    leads = list(
        get_user_model().objects.filter(is_active=True, groups__name=COMMS_LEAD).exclude(email="")
        .values_list("email", flat=True)
    )
    for incident in overdue_incidents(now):
        # Conditional update: with two beats running, only one sends the reminder.
        if not Incident.objects.filter(pk=incident.pk, overdue_reminded_at=incident.overdue_reminded_at).update(
            overdue_reminded_at=now
        ):
            continue
        late = now - incident.next_update_due_at
        minutes = int(late.total_seconds() // 60)
        text = f"The public update for {incident.severity} “{incident.title}” is {minutes} min overdue."
        url = settings.SITE_URL + incident.get_absolute_url()
        failure = notify_people(f"Update overdue: {incident.title}", f"{text}\n\nPost an update: {url}\n", leads)
        notify_internal_webhooks("incident.update_overdue", {"incident_id": incident.pk, "text": text, "url": url})
        outcome = f"reminded {len(leads)} lead(s)" if failure is None else f"reminding the leads failed: {failure}"
        record(incident, TimelineKind.CADENCE, f"Update overdue by {minutes} min; {outcome}", overdue_minutes=minutes)
        reminded += 1
    return reminded
