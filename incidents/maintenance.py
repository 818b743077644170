"""Changes to maintenance windows: writing them, their state (scheduled → in progress → verifying → completed, or
cancelled) and the components they put under maintenance. The API, the pages, the admin and beat all come here;
each change is checked against the state machines in incidents/choices.py, made with the row locked and written
on the window's timeline (MaintenanceEvent). Who approves a window, and its notices, are comms' (comms.maintenance).

Nothing about a window reaches the public before a communications lead approved it: beat moves only approved
windows (an unapproved one whose time comes stays scheduled and is refused a manual start), so its components
never change for a window nobody approved."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.statemachine import TransitionNotAllowed
from incidents.choices import (
    MAINTENANCE_APPROVAL_MACHINE,
    MAINTENANCE_MACHINE,
    ComponentStatus,
    MaintenanceApproval,
    MaintenanceEventKind,
    MaintenanceState,
)
from incidents.models import Component, Maintenance, MaintenanceEvent, StatusChangeCause
from incidents.services import set_component_status
from incidents.signals import public_change

TEXT_FIELDS = ("title", "what", "why", "customer_impact", "customer_action")
TIME_FIELDS = ("scheduled_for", "scheduled_until")
# What an edit may change; the text, times and components are what an approval covers.
EDITABLE_FIELDS = (*TEXT_FIELDS, *TIME_FIELDS, "internal_notes", "needs_verification", "four_eyes")
APPROVED_FIELDS = (*TEXT_FIELDS, *TIME_FIELDS)


def record(maintenance: Maintenance, kind: str, description: str, actor=None, **data) -> MaintenanceEvent:
    return MaintenanceEvent.objects.create(maintenance=maintenance, kind=kind, description=description[:500],
                                           actor=actor, data=data)


def check_times(scheduled_for, scheduled_until) -> None:
    if scheduled_for is None or scheduled_until is None:
        raise ValidationError({"scheduled_until": "Give both the start and the end of the window."})
    if scheduled_until <= scheduled_for:
        raise ValidationError({"scheduled_until": "The window must end after it starts."})


def _changed(maintenance: Maintenance) -> None:
    """The status page's cache hears of every change of a window that is (or was) public."""
    if maintenance.published_at is not None:
        public_change.send(sender=Maintenance)


@transaction.atomic
def create_maintenance(*, author, components: Iterable[Component] = (), **fields) -> Maintenance:
    """A new window, as a draft waiting to be submitted for a lead's approval."""
    for name in fields:
        if name not in EDITABLE_FIELDS:
            raise ValueError(f"{name} cannot be set on a new maintenance window")
    check_times(fields.get("scheduled_for"), fields.get("scheduled_until"))
    maintenance = Maintenance(author=author, **fields)
    maintenance.full_clean(exclude=["author", "components"])
    maintenance.save()
    components = list(components)
    maintenance.components.set(components)
    record(maintenance, MaintenanceEventKind.CREATED,
           f"Maintenance “{maintenance.title}” written" + (f", affecting {_names(components)}" if components else ""),
           author, components=[component.pk for component in components])
    return maintenance


@transaction.atomic
def update_maintenance(maintenance: Maintenance, *, actor, components: Iterable[Component] | None = None,
                       **changes) -> Maintenance:
    """Edit a scheduled window. A change of its text, times or components sends an approved (or submitted) window
    back to waiting for approval: an approval covers what was approved. A new time for a window that was public is
    a reschedule: its notices start over, with a notice saying it moved once a lead approved the new times."""
    maintenance = _locked(maintenance)
    if maintenance.state != MaintenanceState.SCHEDULED:
        raise TransitionNotAllowed(
            f"A maintenance window that is {maintenance.get_state_display().lower()} can no longer be edited.")
    for name in changes:
        if name not in EDITABLE_FIELDS:
            raise ValueError(f"{name} cannot be edited")
    changed = [name for name, value in changes.items() if getattr(maintenance, name) != value]
    for name in changed:
        setattr(maintenance, name, changes[name])
    check_times(maintenance.scheduled_for, maintenance.scheduled_until)
    components_changed = False
    if components is not None:
        components = list(components)
        components_changed = set(maintenance.components.all()) != set(components)
        if components_changed:
            maintenance.components.set(components)
            changed.append("components")
    if not changed:
        return maintenance
    maintenance.full_clean(exclude=["author", "components"])
    description = f"Edited {', '.join(name.replace('_', ' ') for name in changed)}"
    rescheduled = bool(set(changed) & set(TIME_FIELDS)) and maintenance.published_at is not None
    if rescheduled:
        maintenance.schedule_version += 1
        maintenance.rescheduled_at = timezone.now()
        description = (f"Rescheduled to {timezone.localtime(maintenance.scheduled_for):%Y-%m-%d %H:%M} – "
                       f"{timezone.localtime(maintenance.scheduled_until):%Y-%m-%d %H:%M %Z}")
    if set(changed) & {*APPROVED_FIELDS, "components"} and maintenance.approval == MaintenanceApproval.APPROVED:
        MAINTENANCE_APPROVAL_MACHINE.check(maintenance.approval, MaintenanceApproval.SUBMITTED)
        maintenance.approval = MaintenanceApproval.SUBMITTED
        maintenance.approver, maintenance.approved_at = None, None
        maintenance.submitted_at = timezone.now()
        description += "; it needs approval again and is hidden from the public until then"
    maintenance.save()
    record(maintenance, MaintenanceEventKind.EDITED, description, actor, fields=changed,
           schedule_version=maintenance.schedule_version)
    _changed(maintenance)
    return maintenance


def reschedule(maintenance: Maintenance, *, actor, scheduled_for, scheduled_until) -> Maintenance:
    return update_maintenance(maintenance, actor=actor, scheduled_for=scheduled_for, scheduled_until=scheduled_until)


@transaction.atomic
def cancel(maintenance: Maintenance, *, actor, reason: str = "") -> Maintenance:
    """A scheduled window will not happen. Subscribers who were told of it are told it is cancelled
    (comms.maintenance); one never approved was never public and nobody is told."""
    maintenance = _locked(maintenance)
    MAINTENANCE_MACHINE.check(maintenance.state, MaintenanceState.CANCELLED)
    maintenance.state, maintenance.cancelled_at = MaintenanceState.CANCELLED, timezone.now()
    maintenance.save(update_fields=["state", "cancelled_at", "updated_at"])
    record(maintenance, MaintenanceEventKind.STATE, "Cancelled" + (f": {reason}" if reason else ""), actor,
           old=MaintenanceState.SCHEDULED, new=MaintenanceState.CANCELLED, reason=reason)
    _changed(maintenance)
    return maintenance


@transaction.atomic
def start(maintenance: Maintenance, *, actor=None, at=None) -> Maintenance:
    """scheduled → in progress: its components go under maintenance, each remembering its status before."""
    maintenance = _locked(maintenance)
    MAINTENANCE_MACHINE.check(maintenance.state, MaintenanceState.IN_PROGRESS)
    if not maintenance.is_public:
        raise TransitionNotAllowed("A communications lead has not approved this maintenance window: it cannot start "
                                   "before its announcement is approved.")
    at = at or timezone.now()
    components = list(maintenance.components.all())
    maintenance.components_before = {str(component.pk): component.status for component in components}
    maintenance.state, maintenance.started_at = MaintenanceState.IN_PROGRESS, at
    maintenance.save(update_fields=["state", "started_at", "components_before", "updated_at"])
    record(maintenance, MaintenanceEventKind.STATE, "Started" + ("" if actor else " at its scheduled time"), actor,
           old=MaintenanceState.SCHEDULED, new=MaintenanceState.IN_PROGRESS)
    for component in components:
        _move_component(maintenance, component, ComponentStatus.UNDER_MAINTENANCE, actor)
    _changed(maintenance)
    return maintenance


@transaction.atomic
def finish(maintenance: Maintenance, *, actor=None, at=None) -> Maintenance:
    """in progress → verifying (a window that asked for a check) or completed; its components go back to what they
    were. From verifying, a lead completes it."""
    maintenance = _locked(maintenance)
    verify = maintenance.state == MaintenanceState.IN_PROGRESS and maintenance.needs_verification and actor is None
    return _end(maintenance, MaintenanceState.VERIFYING if verify else MaintenanceState.COMPLETED, actor, at)


def complete(maintenance: Maintenance, *, actor) -> Maintenance:
    """A lead completes a window in progress (early) or one that waits in verifying."""
    with transaction.atomic():
        return _end(_locked(maintenance), MaintenanceState.COMPLETED, actor, None)


def _end(maintenance: Maintenance, target: str, actor, at) -> Maintenance:
    MAINTENANCE_MACHINE.check(maintenance.state, target)
    at = at or timezone.now()
    old = maintenance.state
    maintenance.state = target
    if target == MaintenanceState.VERIFYING:
        maintenance.verifying_at = at
    else:
        maintenance.completed_at = at
    maintenance.save(update_fields=["state", "verifying_at", "completed_at", "updated_at"])
    label = "Verifying" if target == MaintenanceState.VERIFYING else "Completed"
    record(maintenance, MaintenanceEventKind.STATE, label + ("" if actor else " at its scheduled end"), actor,
           old=old, new=target)
    if old == MaintenanceState.IN_PROGRESS:
        _restore_components(maintenance, actor)
    _changed(maintenance)
    return maintenance


def _restore_components(maintenance: Maintenance, actor) -> None:
    """Each component back to its status before the window, if it is still under maintenance (an incident that
    changed it meanwhile wins) and no other window in progress holds it."""
    held = set(
        Maintenance.objects.filter(state=MaintenanceState.IN_PROGRESS).exclude(pk=maintenance.pk)
        .values_list("components", flat=True)
    )
    before = maintenance.components_before or {}
    for component in maintenance.components.all():
        if component.status != ComponentStatus.UNDER_MAINTENANCE:
            continue
        if component.pk in held:
            record(maintenance, MaintenanceEventKind.COMPONENTS,
                   f"{component.name} stays under maintenance: another window in progress holds it", actor,
                   component=component.pk)
            continue
        previous = before.get(str(component.pk), ComponentStatus.OPERATIONAL)
        if previous == ComponentStatus.UNDER_MAINTENANCE:
            previous = ComponentStatus.OPERATIONAL  # it was another window's, which has ended since
        _move_component(maintenance, component, previous, actor)


def _move_component(maintenance: Maintenance, component: Component, status: str, actor) -> None:
    old = component.status
    if old == status:
        return
    # The one place a component's status changes, which also keeps its status history (ComponentStatusChange).
    set_component_status(component, status, actor=actor, cause=StatusChangeCause.MAINTENANCE)
    record(maintenance, MaintenanceEventKind.COMPONENTS,
           f"{component.name} changed from {ComponentStatus(old).label.lower()} to "
           f"{ComponentStatus(status).label.lower()}", actor, component=component.pk, old=old, new=status)


def move_due_windows(now=None) -> dict[str, int]:
    """Beat: start approved windows whose start has come, and end those whose end has come. Each move locks its
    row and checks its state again, so two beats (or a beat and a lead) move a window once; running it twice
    changes nothing."""
    now = now or timezone.now()
    moved = {"started": 0, "ended": 0}
    due_to_start = Maintenance.objects.public().filter(state=MaintenanceState.SCHEDULED, scheduled_for__lte=now)
    for pk in list(due_to_start.values_list("pk", flat=True)):
        with transaction.atomic():
            maintenance = _locked_if(pk, MaintenanceState.SCHEDULED)
            if maintenance is not None and maintenance.is_public:
                start(maintenance, at=now)
                moved["started"] += 1
    due_to_end = Maintenance.objects.filter(state=MaintenanceState.IN_PROGRESS, scheduled_until__lte=now)
    for pk in list(due_to_end.values_list("pk", flat=True)):
        with transaction.atomic():
            maintenance = _locked_if(pk, MaintenanceState.IN_PROGRESS)
            if maintenance is not None:
                finish(maintenance, at=now)
                moved["ended"] += 1
    return moved


def _locked_if(pk: int, state: str) -> Maintenance | None:
    return Maintenance.objects.select_for_update().filter(pk=pk, state=state).first()


def _locked(maintenance: Maintenance) -> Maintenance:
    return Maintenance.objects.select_for_update().get(pk=maintenance.pk)


def _names(components: Iterable[Component]) -> str:
    return ", ".join(sorted(component.name for component in components))
