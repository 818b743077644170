"""A communications lead approves a maintenance window's announcement, by the rules a message is approved by
(comms.messaging): only a holder of comms.approve_message approves or rejects; a rejection says why; the four-eyes
rule — when the window asks for it — keeps whoever wrote or changed its text or times from approving it; an edit
or a new time after approval sends it back (incidents.maintenance.update_maintenance). Approving the window
approves its notices too: each is the approved text under a first line written from the facts (rendering.py)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from core.statemachine import TransitionNotAllowed
from incidents.choices import MAINTENANCE_APPROVAL_MACHINE, MaintenanceApproval, MaintenanceEventKind
from incidents.maintenance import APPROVED_FIELDS, record
from incidents.models import Maintenance, MaintenanceEvent
from incidents.signals import public_change

APPROVE = "comms.approve_message"  # the permission that approves messages approves windows: one rule for both
CHANGE = "incidents.change_maintenance"


def check_may_change(maintenance: Maintenance, actor) -> None:
    """A window is edited, submitted or cancelled by its author or a communications lead."""
    if maintenance.author_id != actor.pk and not actor.has_perm(CHANGE):
        raise PermissionDenied("Only the author or a communications lead may change this maintenance window.")


def _edits(maintenance: Maintenance) -> list[tuple[int | None, set[str]]]:
    edits = MaintenanceEvent.objects.filter(maintenance=maintenance, kind=MaintenanceEventKind.EDITED)
    return [(actor_id, set(data.get("fields") or ())) for actor_id, data in edits.values_list("actor_id", "data")]


def authors(maintenance: Maintenance) -> set[int]:
    """Who wrote what an approval covers: the author and everyone who changed its text, times or components — or
    its four-eyes switch (turning it off is no way around it, below)."""
    covered = {*APPROVED_FIELDS, "components", "four_eyes"}
    ids = {maintenance.author_id} | {actor_id for actor_id, fields in _edits(maintenance) if fields & covered}
    return ids - {None}


def asks_for_four_eyes(maintenance: Maintenance) -> bool:
    """On now, or on at any time since it was written: whoever switched it off is one of its authors, so switching
    it off never lets an author approve their own window."""
    return maintenance.four_eyes or any("four_eyes" in fields for _, fields in _edits(maintenance))


def four_eyes_refusal(maintenance: Maintenance, actor) -> str:
    if asks_for_four_eyes(maintenance) and actor.pk in authors(maintenance):
        return ("This maintenance window asks for four eyes: another communications lead must approve it, as you "
                "wrote or changed its text or times.")
    return ""


def submit(maintenance: Maintenance, *, actor) -> Maintenance:
    check_may_change(maintenance, actor)
    return _move(maintenance, MaintenanceApproval.SUBMITTED, actor, "Submitted for approval",
                 submitted_at=timezone.now(), rejection_reason="")


def approve(maintenance: Maintenance, *, actor) -> Maintenance:
    if not actor.has_perm(APPROVE):
        raise PermissionDenied("Only communications leads approve maintenance windows.")
    with transaction.atomic():
        maintenance = Maintenance.objects.select_for_update().get(pk=maintenance.pk)
        if maintenance.approval == MaintenanceApproval.DRAFT:
            raise TransitionNotAllowed("Submit the maintenance window for approval first.")
        refusal = four_eyes_refusal(maintenance, actor)
        if refusal:
            raise PermissionDenied(refusal)
        if maintenance.scheduled_until <= timezone.now() and maintenance.state == "scheduled":
            raise TransitionNotAllowed("The window's end has passed: reschedule it or cancel it.")
        now = timezone.now()
        return _move(maintenance, MaintenanceApproval.APPROVED, actor, "Approved: shown on the status page",
                     approver=actor, approved_at=now, published_at=maintenance.published_at or now)


def reject(maintenance: Maintenance, *, actor, reason: str) -> Maintenance:
    if not actor.has_perm(APPROVE):
        raise PermissionDenied("Only communications leads reject maintenance windows.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why, so the author knows what to change."})
    if maintenance.approval != MaintenanceApproval.SUBMITTED:
        raise TransitionNotAllowed("Only a maintenance window waiting for approval can be rejected.")
    return _move(maintenance, MaintenanceApproval.DRAFT, actor, f"Rejected: {reason}", rejection_reason=reason[:500])


@transaction.atomic
def _move(maintenance: Maintenance, target: str, actor, description: str, **fields) -> Maintenance:
    maintenance = Maintenance.objects.select_for_update().get(pk=maintenance.pk)
    MAINTENANCE_APPROVAL_MACHINE.check(maintenance.approval, target)
    was_public = maintenance.is_public
    maintenance.approval = target
    for name, value in fields.items():
        setattr(maintenance, name, value)
    maintenance.save()
    record(maintenance, MaintenanceEventKind.APPROVAL, description, actor, approval=target)
    if was_public or maintenance.is_public:
        public_change.send(sender=Maintenance)
    return maintenance
