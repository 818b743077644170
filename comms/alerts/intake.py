"""What each posted alert does: open or join an internal incident, resolve, or nothing (a duplicate)."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from comms import messaging
from comms.alerts.mapping import IncomingAlert, component_for, severity_for
from comms.approvals import APPROVE_MESSAGE, people_who_may
from comms.choices import MessagePhase
from comms.models import Alert, AlertSource, Message, MessageTemplate
from comms.notify import notify_internal_webhooks
from core.notify import notify_people
from core.words import one_line
from incidents import services
from incidents.choices import IncidentStatus, TimelineKind
from incidents.models import Component, Incident

log = logging.getLogger(__name__)

# The author of the acknowledgement drafts alerts write: an inactive user nobody signs in as.
ALERTS_AUTHOR = "monitoring-alerts"
ACKNOWLEDGEMENT_TEMPLATE = "Initial acknowledgement"

DUPLICATE, RESOLVED, UNMAPPED, NOT_FIRING = "duplicate", "resolved", "no component mapped", "no open alert"


def receive(source: AlertSource, alerts: list[IncomingAlert], now=None) -> list[dict]:
    """Each alert on its own (one transaction each), in the order posted. Returns one result per alert:
    {"fingerprint", "result", "incident"} where result is "opened incident N", "joined incident N", "duplicate",
    "resolved", "no component mapped" or "no open alert"."""
    now = now or timezone.now()
    results = []
    unmapped = []
    for alert in alerts:
        with transaction.atomic():
            if alert.firing:
                result, incident_id = _fire(source, alert, now)
            else:
                result, incident_id = _resolve(source, alert, now)
        if result == UNMAPPED:
            unmapped.append(alert)
        results.append({"fingerprint": alert.fingerprint, "result": result, "incident": incident_id})
    AlertSource.objects.filter(pk=source.pk).update(last_seen_at=now)
    if unmapped:
        _tell_leads_unmapped(source, unmapped)
    return results


# --- Firing ---------------------------------------------------------------------------------------------------

# A start older than this (Alertmanager's zero time 0001-01-01, a sender's broken clock) is not believed: the
# incident starts when the alert reached us.
PLAUSIBLE_START = timedelta(days=30)


def _start(incoming: IncomingAlert, now) -> datetime | None:
    started = incoming.starts_at
    if started is None or started < now - PLAUSIBLE_START:
        return None
    return min(started, now)


def _fire(source: AlertSource, incoming: IncomingAlert, now) -> tuple[str, int | None]:
    incoming.starts_at = _start(incoming, now)
    component = component_for(source, incoming)
    severity = severity_for(source, incoming.severity_label)
    try:
        with transaction.atomic():  # a savepoint: the unique constraint decides, not a check before the insert
            alert = Alert.objects.create(
                source=source, fingerprint=incoming.fingerprint, name=incoming.name[:200],
                summary=incoming.summary[:500], labels=incoming.labels, severity_label=incoming.severity_label[:50],
                severity=severity, component=component, outcome=Alert.Outcome.UNMAPPED, url=incoming.url[:1000],
                starts_at=incoming.starts_at, received_at=now,
            )
    except IntegrityError:
        existing = Alert.objects.filter(source=source, fingerprint=incoming.fingerprint,
                                        resolved_at__isnull=True).values_list("incident_id", flat=True).first()
        return DUPLICATE, existing
    if component is None:
        return UNMAPPED, None

    # One alert at a time per component: two alerts for it posted at once open one incident, not two.
    Component.objects.select_for_update().filter(pk=component.pk).first()
    incident = Incident.objects.open().filter(components=component).order_by("-started_at", "-pk").first()
    if incident is not None:
        Alert.objects.filter(pk=alert.pk).update(incident=incident, outcome=Alert.Outcome.JOINED)
        services.record(incident, TimelineKind.NOTE,
                        f"Alert “{alert.name}” ({severity}) from {source.name} is firing for {component.name}"
                        + (f": {alert.summary}" if alert.summary else ""),
                        alert_id=alert.pk, fingerprint=alert.fingerprint)
        return f"joined incident {incident.pk}", incident.pk

    started = incoming.starts_at or now
    incident = services.create_incident(
        actor=None, components=[component], title=_title(incoming, component), severity=severity,
        started_at=started, detected_at=now,
    )
    Alert.objects.filter(pk=alert.pk).update(incident=incident, outcome=Alert.Outcome.OPENED)
    services.record(incident, TimelineKind.NOTE,
                    f"Opened by alert “{alert.name}” ({alert.severity_label or 'no severity label'} → {severity}) "
                    f"from {source.name}. Internal until a lead publishes a public message or shows it on the "
                    "status page.", alert_id=alert.pk, fingerprint=alert.fingerprint)
    draft = _draft_acknowledgement(source, incident)
    incident_id, draft_id = incident.pk, draft.pk if draft else None
    transaction.on_commit(lambda: tell_leads_opened(alert.pk, incident_id, draft_id), robust=True)
    return f"opened incident {incident.pk}", incident.pk


def _title(incoming: IncomingAlert, component: Component) -> str:
    text = incoming.summary or incoming.name or f"Alert on {component.name}"
    return one_line(text, 200)


def alerts_author():
    user, created = get_user_model().objects.get_or_create(
        username=ALERTS_AUTHOR, defaults={"is_active": False, "first_name": "Monitoring", "last_name": "alerts"})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def acknowledgement_template(source: AlertSource) -> MessageTemplate | None:
    if source.acknowledgement_template_id and source.acknowledgement_template.pre_approved:
        return source.acknowledgement_template
    preapproved = MessageTemplate.objects.filter(phase=MessagePhase.INITIAL, pre_approved=True)
    return preapproved.filter(name=ACKNOWLEDGEMENT_TEMPLATE).first() or preapproved.order_by("name").first()


def _draft_acknowledgement(source: AlertSource, incident: Incident) -> Message | None:
    """The pre-approved acknowledgement as a draft, unchanged: a lead (or support) publishes it in one click, or
    edits it first. A failure to draft never stops the incident from opening; it is written on the timeline."""
    template = acknowledgement_template(source)
    if template is None:
        services.record(incident, TimelineKind.NOTE, "No pre-approved acknowledgement template exists: no draft "
                                                     "was written")
        return None
    try:
        with transaction.atomic():
            return messaging.create_message(incident=incident, author=alerts_author(), template=template)
    except ValidationError as error:
        services.record(incident, TimelineKind.NOTE,
                        f"The acknowledgement could not be drafted from “{template.name}”: {' '.join(error.messages)}")
        return None


# --- Resolved -------------------------------------------------------------------------------------------------

def _resolve(source: AlertSource, incoming: IncomingAlert, now) -> tuple[str, int | None]:
    # of=("self",): the incident is a nullable join, which PostgreSQL will not lock (and need not: only the alert row)
    alert = (Alert.objects.select_for_update(of=("self",)).select_related("incident")
             .filter(source=source, fingerprint=incoming.fingerprint, resolved_at__isnull=True).first())
    if alert is None or not Alert.objects.filter(pk=alert.pk, resolved_at__isnull=True).update(resolved_at=now):
        seen = Alert.objects.filter(source=source, fingerprint=incoming.fingerprint).exists()
        return (DUPLICATE if seen else NOT_FIRING), None
    incident = alert.incident
    if incident is not None and incident.is_open:
        still_firing = incident.alerts.filter(resolved_at__isnull=True).count()
        if still_firing:
            advice = f"{still_firing} other alert(s) on this incident are still firing."
        elif incident.status in (IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED):
            advice = "Consider moving the incident to monitoring (its status was not changed)."
        else:
            advice = "Its status was not changed."
        services.record(incident, TimelineKind.NOTE, f"Alert “{alert.name}” from {source.name} resolved. {advice}",
                        alert_id=alert.pk, fingerprint=alert.fingerprint, resolved=True,
                        suggest_monitoring=not still_firing)
    return RESOLVED, alert.incident_id


def suggests_monitoring(incident: Incident) -> bool:
    """Every alert on this open incident has resolved while it is still investigating or identified."""
    if incident.status not in (IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED):
        return False
    alerts = incident.alerts.all()
    return alerts.exists() and not alerts.filter(resolved_at__isnull=True).exists()


# --- Telling the leads ----------------------------------------------------------------------------------------

def tell_leads_opened(alert_id: int, incident_id: int, draft_id: int | None) -> None:
    """Email the communications leads and post to internal webhooks that an alert opened an internal incident; a
    failed email is written on the incident's timeline."""
    alert = Alert.objects.select_related("source", "incident").filter(pk=alert_id).first()
    if alert is None or alert.incident is None:
        return
    incident = alert.incident
    url = settings.SITE_URL + incident.get_absolute_url()
    text = (f"Alert “{alert.name}” from {alert.source.name} opened the internal {incident.severity} incident "
            f"“{incident.title}”. Nothing is public yet.")
    lines = [text, "", f"Incident: {url}"]
    if draft_id is not None:
        draft_url = settings.SITE_URL + reverse("message-detail", args=[draft_id])
        lines.append(f"The pre-approved acknowledgement is drafted; check it and publish it: {draft_url}")
    if alert.url:
        lines.append(f"The alert: {alert.url}")
    people = [person.email for person in people_who_may(APPROVE_MESSAGE)]
    failure = notify_people(f"Alert opened an incident: {incident.title}", "\n".join(lines) + "\n", people)
    notify_internal_webhooks("alert.incident_opened", {
        "incident_id": incident.pk, "severity": incident.severity, "url": url, "text": text,
        "alert": {"name": alert.name, "fingerprint": alert.fingerprint, "source": alert.source.name},
        "draft_message_id": draft_id,
    })
    outcome = f"{len(people)} lead(s) emailed" if failure is None else f"emailing the leads failed: {failure}"
    services.record(incident, TimelineKind.NOTE, f"Communications leads told of the alert: {outcome}",
                    alert_id=alert.pk, notified=len(people) if failure is None else 0)


def _tell_leads_unmapped(source: AlertSource, alerts: list[IncomingAlert]) -> None:
    """Firing alerts no component is mapped for open no incident; the leads are told, so that someone decides
    (and an admin adds a mapping). Once per firing alert: a duplicate is not announced again."""
    names = [f"“{alert.name}” ({alert.fingerprint})" for alert in alerts]
    text = (f"{len(alerts)} firing alert(s) from {source.name} name no known component, so no incident was opened: "
            + ", ".join(names[:20]) + ("…" if len(names) > 20 else ""))
    where = (f"Open an incident by hand if customers are affected: {settings.SITE_URL}{reverse('incident-create')}\n"
             "An admin can map their labels to components (Alert component mappings, in the admin).")
    people = [person.email for person in people_who_may(APPROVE_MESSAGE)]
    notify_people(f"Alerts with no component from {source.name}", f"{text}\n\n{where}\n", people)
    notify_internal_webhooks("alert.unmapped", {
        "source": source.name, "text": text, "fingerprints": [alert.fingerprint for alert in alerts]})
