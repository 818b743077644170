"""Changes to incidents. The API, the pages and the admin all go through here, so that every change
is checked against the state machine and written to the timeline the same way."""

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from core.statemachine import TransitionNotAllowed
from incidents import cadence, hooks
from incidents.choices import INCIDENT_MACHINE, OPEN_STATUSES, ComponentStatus, IncidentStatus, TimelineKind
from incidents.models import Component, ComponentStatusChange, Incident, StatusChangeCause, TimelineEntry
from incidents.signals import incident_changed, public_change

# Fields whose change is recorded on the timeline as a plain edit, with a label for the description.
EDITABLE_FIELDS = {
    "title": "title",
    "kind": "kind",
    "impact_summary": "impact summary",
    "internal_notes": "internal notes",
    "commander": "commander",
    "started_at": "start time",
    "detected_at": "detection time",
}

def record(incident: Incident, kind: str, description: str, actor=None, **data) -> TimelineEntry:
    return TimelineEntry.objects.create(
        incident=incident, kind=kind, description=description[:500], actor=actor, data=data
    )


@transaction.atomic
def create_incident(*, actor, components: Iterable[Component] = (), **fields) -> Incident:
    status = fields.get("status", IncidentStatus.INVESTIGATING)
    if status not in OPEN_STATUSES:
        raise TransitionNotAllowed(
            "A new incident starts as investigating, identified or monitoring; resolve it afterwards."
        )
    incident = Incident(created_by=actor, **fields)
    cadence.schedule_next_update(incident)
    incident.save()
    components = list(components)
    incident.components.set(components)
    record(
        incident,
        TimelineKind.CREATED,
        f"Incident opened as {incident.severity}, {incident.get_status_display().lower()}"
        + (f", affecting {_names(components)}" if components else ""),
        actor,
        severity=incident.severity,
        status=incident.status,
        components=[c.pk for c in components],
    )
    public_change.send(sender=Incident)
    return incident


@transaction.atomic
def update_incident(incident: Incident, *, actor, components: Iterable[Component] | None = None, **changes):
    """Apply changes and record each on the timeline. A status change goes through the state machine."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    incident.components_changed = False
    status = changes.pop("status", incident.status)
    note = changes.pop("note", "")

    edited = []
    for field, value in changes.items():
        if field not in EDITABLE_FIELDS and field != "severity":
            raise ValueError(f"{field} cannot be changed through update_incident")
        if getattr(incident, field) != value:
            if field == "severity":
                record(
                    incident,
                    TimelineKind.SEVERITY,
                    f"Severity changed from {incident.severity} to {value}",
                    actor,
                    old=incident.severity,
                    new=value,
                )
            else:
                edited.append(EDITABLE_FIELDS[field])
            setattr(incident, field, value)
    if edited:
        record(incident, TimelineKind.EDITED, f"Edited {', '.join(edited)}", actor, fields=edited)

    if components is not None:
        _change_components(incident, list(components), actor)

    old_severity, old_status, old_kind = Incident.objects.values_list("severity", "status", "kind").get(pk=incident.pk)
    if status != incident.status:
        _change_status(incident, status, actor, note)
    if incident.severity != old_severity or incident.status != old_status:
        reopened = old_status not in OPEN_STATUSES and incident.is_open
        cadence.schedule_next_update(incident, since=timezone.now() if reopened else None)
    incident.save()
    if edited or incident.severity != old_severity or incident.status != old_status or incident.components_changed:
        public_change.send(sender=Incident)  # title, severity, impact and status are all on the public page
    before = {"severity": old_severity, "status": old_status, "kind": old_kind}
    changes = {field: (old, getattr(incident, field)) for field, old in before.items()
               if getattr(incident, field) != old}
    if changes:
        incident_changed.send(sender=Incident, incident=incident, changes=changes)
    return incident


def may_show_on_status_page(user) -> bool:
    """Who decides that an incident is public: communications leads (by this action, or by their own public
    message about a security incident)."""
    return user is not None and user.has_perm("incidents.change_incident")


def show_on_status_page(incident: Incident, *, actor) -> Incident:
    """A communications lead's explicit decision to make an internal incident public (its title, impact summary,
    status and components; never its internal notes). The only way a security incident becomes public."""
    if not may_show_on_status_page(actor):
        raise PermissionDenied("Only communications leads decide what shows on the status page.")
    return mark_public(incident, actor=actor, reason="by a communications lead")


@transaction.atomic
def mark_public(incident: Incident, *, actor=None, reason: str, at=None) -> Incident:
    """From now on the incident shows on the status page; idempotent. Callers check who may do it."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.is_public:
        return incident
    incident.public_since = at or timezone.now()
    Incident.objects.filter(pk=incident.pk).update(public_since=incident.public_since)
    record(incident, TimelineKind.PUBLIC, f"Shown on the status page {reason}", actor)
    if incident.pending_component_status:
        _apply_pending_component_status(incident, actor)
    public_change.send(sender=Incident)
    return incident


@transaction.atomic
def set_component_status(
    component: Component, status: str, *, actor, incident: Incident | None = None, cause: str | None = None
) -> Component:
    """Change what the status page shows for a component: the one place a component's status changes, so every
    change is kept in its status history (ComponentStatusChange, read by incidents.uptime). With an incident, the
    change is also recorded on its timeline; an internal incident never changes what the public sees (see
    set_affected_components_status). The cause is the incident's, else a direct edit, unless the caller names
    another (maintenance). Callers check who may do it."""
    if status not in ComponentStatus.values:
        raise ValueError(f"{status!r} is not a component status")
    if incident is not None and not incident.is_public:
        raise TransitionNotAllowed(
            "The incident is internal: its component statuses wait until it is shown on the status page."
        )
    component = Component.objects.select_for_update().get(pk=component.pk)
    old = component.status
    if old == status:
        return component
    component.status = status
    component.save(update_fields=["status", "updated_at"])
    ComponentStatusChange.objects.create(
        component=component, from_status=old, to_status=status, at=component.updated_at,
        cause=cause or (StatusChangeCause.INCIDENT if incident is not None else StatusChangeCause.DIRECT_EDIT),
        incident=incident, actor=actor,
    )
    if incident is not None:
        record(
            incident,
            TimelineKind.COMPONENTS,
            f"{component.name} changed from {ComponentStatus(old).label.lower()} to "
            f"{ComponentStatus(status).label.lower()}",
            actor,
            component=component.pk,
            old=old,
            new=status,
        )
    # The status page hears of it from the component's save (incidents.apps: every saved component or group).
    return component


@transaction.atomic
def set_affected_components_status(incident: Incident, status: str, *, actor) -> Incident:
    """The incident form's "Set the affected components to". On a public incident every affected component
    changes at once; on an internal one the status waits on the incident (pending_component_status) and
    mark_public applies it, so a non-public incident never changes what the public sees. An empty status
    clears what was waiting."""
    if status and status not in ComponentStatus.values:
        raise ValueError(f"{status!r} is not a component status")
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.is_public:
        if status:
            for component in incident.components.all():
                set_component_status(component, status, actor=actor, incident=incident)
        return incident
    if incident.pending_component_status == status:
        return incident
    incident.pending_component_status = status
    Incident.objects.filter(pk=incident.pk).update(pending_component_status=status)
    if status:
        description = (
            f"Affected components to be set to {ComponentStatus(status).label.lower()} "
            "when the incident is shown on the status page"
        )
    else:
        description = "Affected components' status change withdrawn"
    record(incident, TimelineKind.EDITED, description, actor, pending_component_status=status)
    return incident


def change_status(incident: Incident, status: str, *, actor, note: str = "") -> Incident:
    return update_incident(incident, actor=actor, status=status, note=note)


def close_blockers(incident: Incident) -> list[str]:
    return [blocker for check in hooks.close_checks for blocker in check(incident)]


def check_status_change(incident: Incident, status: str) -> None:
    """Raise TransitionNotAllowed, with the reason, unless the incident may move to this status now."""
    INCIDENT_MACHINE.check(incident.status, status)
    if status == IncidentStatus.CLOSED:
        blockers = close_blockers(incident)
        if blockers:
            raise TransitionNotAllowed("The incident cannot be closed yet: " + "; ".join(blockers) + ".")


def _change_status(incident: Incident, status: str, actor, note: str) -> None:
    check_status_change(incident, status)
    now = timezone.now()
    old = incident.status
    if status == IncidentStatus.RESOLVED:
        incident.resolved_at = now
    elif status == IncidentStatus.CLOSED:
        incident.closed_at = now
    elif old == IncidentStatus.RESOLVED:
        incident.resolved_at = None  # reopened
    incident.status = status
    description = f"Status changed from {IncidentStatus(old).label.lower()} to {IncidentStatus(status).label.lower()}"
    if old == IncidentStatus.RESOLVED and status in OPEN_STATUSES:
        description = f"Reopened as {IncidentStatus(status).label.lower()}"
    record(
        incident,
        TimelineKind.STATUS,
        description + (f": {note}" if note else ""),
        actor,
        old=old,
        new=status,
        note=note,
    )


def _change_components(incident: Incident, components: list[Component], actor) -> None:
    before = set(incident.components.all())
    after = set(components)
    if before == after:
        return
    added, removed = after - before, before - after
    parts = []
    if added:
        parts.append(f"added {_names(added)}")
    if removed:
        parts.append(f"removed {_names(removed)}")
    incident.components.set(components)
    incident.components_changed = True
    record(
        incident,
        TimelineKind.COMPONENTS,
        "Components " + "; ".join(parts),
        actor,
        added=sorted(c.pk for c in added),
        removed=sorted(c.pk for c in removed),
    )


def _apply_pending_component_status(incident: Incident, actor) -> None:
    """What set_affected_components_status kept waiting. An incident resolved while internal only restores
    components to operational: an outage it no longer causes is not shown."""
    status = incident.pending_component_status
    if incident.is_open or status == ComponentStatus.OPERATIONAL:
        for component in incident.components.all():
            set_component_status(component, status, actor=actor, incident=incident)
    else:
        record(
            incident,
            TimelineKind.EDITED,
            f"Affected components not set to {ComponentStatus(status).label.lower()}: the incident is no longer open",
            actor,
            pending_component_status="",
        )
    incident.pending_component_status = ""
    Incident.objects.filter(pk=incident.pk).update(pending_component_status="")


def _names(components: Iterable[Component]) -> str:
    return ", ".join(sorted(c.name for c in components))

