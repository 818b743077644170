"""Reminders when an open incident's public update is overdue (the cadence is incidents.cadence)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from comms.notify import notify_internal_webhooks
from core.notify import notify_people
from core.roles import COMMS_LEAD
from incidents.cadence import overdue_incidents
from incidents.choices import TimelineKind
from incidents.models import Incident
from incidents.services import record


def remind_overdue(now=None) -> int:
    """Email communications leads and notify internal webhooks, once per overdue period per incident."""
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
