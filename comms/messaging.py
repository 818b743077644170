"""The life of a message: draft → submitted → approved → scheduled → sending → sent.

The API, the pages and the admin all call these functions; each checks the state machine and the
approval rules, raises TransitionNotAllowed (409) or PermissionDenied (403), and writes the timeline.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from comms.channels import REGISTRY, get_transport
from comms.choices import EDITABLE_STATES, MESSAGE_MACHINE, Audience, DeliveryStatus, MessageState
from comms.delivery.dispatch import enqueue_queued
from comms.lint import approval_blockers
from comms.models import EARS_PARTS, Message, MessageTemplate
from comms.publicity import may_make_public
from comms.rendering import fill_placeholders, placeholder_values
from core.statemachine import TransitionNotAllowed
from incidents.choices import IncidentStatus, Severity, TimelineKind
from incidents.models import Incident, TimelineEntry
from incidents.services import record

CONTENT_FIELDS = ("headline", *EARS_PARTS)
EDITABLE_FIELDS = (*CONTENT_FIELDS, "phase", "audience", "channels", "scheduled_for", "is_announcement")
FOUR_EYES_SEVERITIES = (Severity.SEV1, Severity.SEV2)


def validate_channels(audience: str, channels: list[str]) -> None:
    if not channels:
        raise ValidationError({"channels": "Choose at least one channel."})
    errors = []
    for kind in channels:
        if kind not in REGISTRY:
            errors.append(f"“{kind}” is not a channel; choose from {', '.join(REGISTRY)}.")
            continue
        transport = get_transport(kind)
        if audience not in transport.audiences:
            errors.append(f"{transport.label} is public; it cannot carry a message for this audience.")
        elif not transport.is_configured():
            errors.append(transport.not_configured_reason())
    if len(set(channels)) != len(channels):
        errors.append("Each channel may be chosen once.")
    if errors:
        raise ValidationError({"channels": errors})


@transaction.atomic
def create_message(*, incident: Incident, author, template: MessageTemplate | None = None, account=None,
                   **fields) -> Message:
    """A new draft, from a template (placeholders filled in) and/or the given fields. With an account, it is a
    targeted message to that account's contacts only (audience: affected accounts)."""
    status_now = Incident.objects.values_list("status", flat=True).get(pk=incident.pk)  # not a caller's old copy
    message = Message(incident=incident, author=author, account=account, written_under_status=status_now)
    if template is not None:
        values = placeholder_values(incident)
        for name in CONTENT_FIELDS:
            setattr(message, name, fill_placeholders(getattr(template, name), values))
        message.phase = template.phase
        message.channels = [kind for kind in template.channels if get_transport(kind).is_configured()]
        message.template = template
        message.template_digest = message.content_digest()
    for name, value in fields.items():
        if name not in EDITABLE_FIELDS:
            raise ValueError(f"{name} cannot be set on a new message")
        setattr(message, name, value)
    if not message.channels:
        message.channels = ["statuspage", "email"]
    if account is not None and message.audience != Audience.AFFECTED_ACCOUNTS:
        raise ValidationError({"audience": "A message to one account is for the affected-accounts audience."})
    validate_channels(message.audience, message.channels)
    message.save()
    origin = f" from template “{template.name}”" if template else ""
    record(incident, TimelineKind.MESSAGE, f"Draft “{message.headline}” written{origin}", author, message_id=message.pk)
    return message


def check_may_change(message: Message, actor) -> None:
    """A message is edited, submitted or cancelled by its author or by a communications lead."""
    if message.author_id != actor.pk and not actor.has_perm("comms.approve_message"):
        raise PermissionDenied("Only the author or a communications lead may change this message.")


@transaction.atomic
def update_message(message: Message, *, actor, **changes) -> Message:
    message = _locked(message)
    check_may_change(message, actor)
    if message.state not in EDITABLE_STATES:
        raise TransitionNotAllowed(f"A {message.get_state_display().lower()} message can no longer be edited.")
    changed = [name for name, value in changes.items() if getattr(message, name) != value]
    for name in changes:
        if name not in EDITABLE_FIELDS:
            raise ValueError(f"{name} cannot be edited")
    if not changed:
        return message
    for name in changed:
        setattr(message, name, changes[name])
    if set(changed) & set(CONTENT_FIELDS):
        message.written_under_status = Incident.objects.values_list("status", flat=True).get(pk=message.incident_id)
    validate_channels(message.audience, message.channels)
    description = f"“{message.headline}” edited"
    if message.state in (MessageState.APPROVED, MessageState.SCHEDULED):
        # An approval covers the text that was approved, not what it became.
        message.state = MessageState.SUBMITTED
        message.approver, message.approved_at = None, None
        message.submitted_at = timezone.now()  # waiting for approval again: the approvers are told again
        description += "; it needs approval again"
    message.save()
    record(message.incident, TimelineKind.MESSAGE, description, actor, message_id=message.pk, fields=changed)
    return message


def submit(message: Message, *, actor) -> Message:
    check_may_change(message, actor)
    return _move(message, MessageState.SUBMITTED, actor, "submitted for approval", submitted_at=timezone.now(),
                 rejection_reason="")


@transaction.atomic
def approve(message: Message, *, actor, confirm_stale: bool = False) -> Message:
    message = _locked(message)
    if not actor.has_perm("comms.approve_message"):
        raise PermissionDenied("Only communications leads approve messages.")
    if message.state == MessageState.DRAFT:
        raise TransitionNotAllowed("Submit the draft for approval first.")
    check_four_eyes(message, actor)
    check_text_is_ready(message)
    check_not_stale(message, confirm_stale)
    check_may_go_public(message, actor)
    target = MessageState.SCHEDULED if message.scheduled_for else MessageState.APPROVED
    when = f"; it goes out at {timezone.localtime(message.scheduled_for):%H:%M %Z}" if message.scheduled_for else ""
    return _move(message, target, actor, f"approved{when}", approver=actor, approved_at=timezone.now())


def check_text_is_ready(message: Message) -> None:
    """Guidance from a template, or a placeholder nobody filled in, never reaches a customer."""
    blockers = approval_blockers(message)
    if blockers:
        raise TransitionNotAllowed(" ".join(blockers))


def check_not_stale(message: Message, confirmed: bool) -> None:
    """Text written while the incident was, say, investigating may be wrong once it is resolved ("we are reversing
    it now"): whoever approves or publishes it confirms they checked it (the page's checkbox, the API's
    confirm_stale)."""
    old = message.stale_since
    if old and not confirmed:
        now = message.incident.get_status_display().lower()
        raise TransitionNotAllowed(
            f"This message was written while the incident was {IncidentStatus(old).label.lower()}; it is now {now}. "
            "Check that its text still holds, then confirm (confirm_stale) — or edit it."
        )


def check_may_go_public(message: Message, actor) -> None:
    """A security incident is never public by default: its first public message goes out only by a communications
    lead's own approval or publishing (or after a lead showed the incident on the status page), never by support's
    one-click publishing of a pre-approved template."""
    if not may_make_public(message, actor):
        raise TransitionNotAllowed(
            "This is a security incident, which is never public by default: only a communications lead can make it "
            "public, by publishing this message or by showing the incident on the status page."
        )


def authors(message: Message) -> set[int]:
    """Who wrote the text: its author, everyone who changed it since (from the timeline), and, for a message left
    as its pre-approved template made it, whoever last wrote that template."""
    ids = {message.author_id}
    edits = TimelineEntry.objects.filter(incident_id=message.incident_id, kind=TimelineKind.MESSAGE,
                                         data__message_id=message.pk).values_list("actor_id", "data")
    ids |= {actor_id for actor_id, data in edits if set(data.get("fields") or ()) & set(CONTENT_FIELDS)}
    if message.template_id and message.is_unchanged_preapproved:
        ids.add(message.template.written_by_id)
    return ids - {None}


def highest_severity(message: Message) -> str:
    """The highest severity the incident ever had: lowering it for a moment (to write and approve one's own
    message) does not lower the bar."""
    incident = message.incident
    seen = {incident.severity}
    changes = TimelineEntry.objects.filter(incident=incident, kind=TimelineKind.SEVERITY)
    for data in changes.values_list("data", flat=True):
        seen.update(value for value in (data.get("old"), data.get("new")) if value)
    return min(seen)  # SEV1 < SEV2 < …: the smallest name is the most severe


def needs_four_eyes(message: Message, severity: str | None = None) -> bool:
    """SEV1/SEV2 (at the incident's highest): a second lead approves, except for a message left as a pre-approved
    template made it — unless a user wrote that template, who then counts as its author."""
    if (severity or highest_severity(message)) not in FOUR_EYES_SEVERITIES:
        return False
    if message.is_unchanged_preapproved:
        return message.template.written_by_id is not None
    return True


def four_eyes_refusal(message: Message, actor) -> str:
    """Why actor may not approve or publish this message themselves, or "" (authors first: the cheaper test)."""
    if actor.pk not in authors(message):
        return ""
    severity = highest_severity(message)
    if not needs_four_eyes(message, severity):
        return ""
    return (f"This message is for a {severity} incident (at its highest), so another communications lead must "
            "approve it: you wrote or changed its text (or the pre-approved template it comes from).")


def check_four_eyes(message: Message, actor) -> None:
    refusal = four_eyes_refusal(message, actor)
    if refusal:
        raise PermissionDenied(refusal)


def reopen_approvals(incident: Incident, changes: dict[str, tuple[str, str]]) -> int:
    """The incident's severity, status or kind changed: approved or scheduled messages whose approval no longer
    holds go back to waiting for approval (with the reason on the timeline). Returns how many."""
    reopened = 0
    pending = Message.objects.filter(incident=incident, state__in=(MessageState.APPROVED, MessageState.SCHEDULED),
                                     approver__isnull=False).select_related("incident", "template", "approver")
    for message in pending:
        reason = _approval_lapsed(message, changes)
        if reason:
            _move(message, MessageState.SUBMITTED, None, f"needs approval again: {reason}",
                  approver=None, approved_at=None, submitted_at=timezone.now())
            reopened += 1
    return reopened


def _approval_lapsed(message: Message, changes: dict[str, tuple[str, str]]) -> str | None:
    incident = message.incident
    if "severity" in changes and needs_four_eyes(message) and message.approver_id in authors(message):
        return f"the incident is now {incident.severity} and its approver wrote it"
    if "status" in changes and message.stale_since:
        return (f"it was written while the incident was {IncidentStatus(message.stale_since).label.lower()}; "
                f"it is now {incident.get_status_display().lower()}")
    if "kind" in changes and not may_make_public(message, message.approver):
        return "the incident is now a security incident, which only a communications lead makes public"
    return None


def reject(message: Message, *, actor, reason: str) -> Message:
    if not actor.has_perm("comms.approve_message"):
        raise PermissionDenied("Only communications leads reject messages.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why, so the author knows what to change."})
    if message.state != MessageState.SUBMITTED:
        raise TransitionNotAllowed("Only a message waiting for approval can be rejected.")
    return _move(message, MessageState.DRAFT, actor, f"rejected: {reason}", rejection_reason=reason[:500])


def cancel(message: Message, *, actor) -> Message:
    check_may_change(message, actor)
    return _move(message, MessageState.CANCELLED, actor, "cancelled")


@transaction.atomic
def publish(message: Message, *, actor, at=None, confirm_stale: bool = False) -> Message:
    """Send now (or at `at`): approved messages by a lead; unchanged pre-approved drafts by lead or support."""
    message = _locked(message)
    at = at or timezone.now()
    check_text_is_ready(message)
    check_not_stale(message, confirm_stale)
    check_may_go_public(message, actor)
    if message.state in (MessageState.APPROVED, MessageState.SCHEDULED):
        if not actor.has_perm("comms.approve_message"):
            raise PermissionDenied("Only communications leads publish approved messages.")
        fields = {"scheduled_for": at}
        if message.state == MessageState.SCHEDULED:
            Message.objects.filter(pk=message.pk).update(**fields)
            message.scheduled_for = at
            record(message.incident, TimelineKind.MESSAGE, f"“{message.headline}” moved to go out now", actor,
                   message_id=message.pk)
            _dispatch_soon()
            return message
    elif message.state in (MessageState.DRAFT, MessageState.SUBMITTED) and message.is_unchanged_preapproved:
        if not actor.has_perm("comms.publish_preapproved_message"):
            raise PermissionDenied("Your role cannot publish messages.")
        check_four_eyes(message, actor)
        fields = {"scheduled_for": at, "approver": actor, "approved_at": timezone.now()}
    elif message.state in (MessageState.DRAFT, MessageState.SUBMITTED):
        raise TransitionNotAllowed(
            "This message needs a communications lead's approval before it can be published "
            "(only an unchanged pre-approved template can go out at once)."
        )
    else:
        MESSAGE_MACHINE.check(message.state, MessageState.SCHEDULED)
        raise AssertionError("unreachable")  # pragma: no cover
    origin = " from a pre-approved template" if message.state in (MessageState.DRAFT, MessageState.SUBMITTED) else ""
    moved = _move(message, MessageState.SCHEDULED, actor, f"published{origin}", **fields)
    if at <= timezone.now():
        _dispatch_soon()
    return moved


def _dispatch_soon():
    """Publishing now takes the same path as scheduled sending, without waiting for beat's next tick."""
    from comms.tasks import dispatch_due_messages

    transaction.on_commit(dispatch_due_messages.delay, robust=True)  # beat dispatches it within seconds anyway


def _locked(message: Message) -> Message:
    return Message.objects.select_for_update(of=("self",)).select_related("incident", "template").get(pk=message.pk)


@transaction.atomic
def _move(message: Message, target: str, actor, verb: str, **fields) -> Message:
    message = _locked(message)
    MESSAGE_MACHINE.check(message.state, target)
    message.state = target
    for name, value in fields.items():
        setattr(message, name, value)
    message.save()
    record(message.incident, TimelineKind.MESSAGE, f"“{message.headline}” {verb}", actor,
           message_id=message.pk, state=target)
    return message


def retry_failed(message: Message, actor) -> int:
    """A communications lead retries a message's failed deliveries."""
    if not actor.has_perm("comms.approve_message"):
        raise PermissionDenied("Only communications leads retry failed deliveries.")
    message = Message.objects.select_related("incident").get(pk=message.pk)
    if message.state not in (MessageState.PARTIALLY_FAILED, MessageState.FAILED):
        raise TransitionNotAllowed("Only a message with failed deliveries can be retried.")
    MESSAGE_MACHINE.check(message.state, MessageState.SENDING)
    with transaction.atomic():
        count = message.deliveries.filter(status=DeliveryStatus.FAILED).update(
            status=DeliveryStatus.QUEUED, attempts=0, next_attempt_at=None, enqueued_at=None
        )
        if count:
            Message.objects.filter(pk=message.pk).update(state=MessageState.SENDING, finished_at=None)
            record(message.incident, TimelineKind.DELIVERY,
                   f"Retrying {count:,} failed deliveries of “{message.headline}”", actor, message_id=message.pk)
            # robust: with the broker down the retry is still recorded, and sweep_deliveries enqueues it later
            transaction.on_commit(lambda: enqueue_queued(message.pk), robust=True)
    return count
