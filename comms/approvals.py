"""What waits for someone's approval, and telling the people who may give it, once.

Two kinds of things wait: messages submitted for a communications lead's approval (on SEV1/SEV2 not by one of
their authors: comms.messaging's four-eyes rule), and compensation that is proposed. Compensation whose impact
adds up to more than COMPENSATION_APPROVAL_LIMIT waits for a lead who did not propose it; at or below the limit
the account manager who works the impact approves it (accounts.rules).

Notifications go out after the change is committed: an email to each active person who may approve
(core.notify.notify_people) and a POST to the internal webhooks. A message is announced once per submission
(its submitted_at; a resubmission after a rejection is a new one), claimed by a line on the incident's timeline
written before anything is sent; compensation once each time accounts says it starts waiting for a lead
(accounts.hooks.awaiting_approval). An email that cannot be sent never stops the action: the failure is written
on the incident's timeline."""

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse

from accounts import rules as account_rules
from accounts.choices import AccountEventKind, CompensationState
from accounts.models import Compensation
from accounts.services import record_impact
from comms import messaging
from comms.choices import MessageState
from comms.models import Message
from comms.notify import notify_internal_webhooks
from core.notify import notify_people
from incidents.choices import TimelineKind
from incidents.models import TimelineEntry
from incidents.services import record

APPROVE_MESSAGE = "comms.approve_message"
APPROVE_COMPENSATION = "accounts.approve_compensation"
WORK_IMPACT = "accounts.change_impact"


# --- What waits for this user ------------------------------------------------------------------------------

def sees_approvals(user) -> bool:
    """Leads (messages, compensation above the limit) and account managers (their accounts' compensation)."""
    return bool(getattr(user, "is_authenticated", False)) and any(
        user.has_perm(permission) for permission in (APPROVE_MESSAGE, APPROVE_COMPENSATION, WORK_IMPACT)
    )


def waiting_messages(user) -> list[Message]:
    """Submitted messages, oldest first, for a lead; each with .four_eyes: why another lead must approve it."""
    if not user.has_perm(APPROVE_MESSAGE):
        return []
    waiting = list(
        Message.objects.filter(state=MessageState.SUBMITTED)
        .select_related("incident", "author", "approver", "template")
        .order_by("submitted_at", "pk")
    )
    for message in waiting:
        message.four_eyes = messaging.four_eyes_refusal(message, user)
    return waiting


def _proposed_for(user) -> QuerySet:
    """Proposed compensation this user approves, annotated with approval_sum (the impact's counted total)."""
    limit = Decimal(settings.COMPENSATION_APPROVAL_LIMIT)
    wanted = Q(pk__in=[])
    if user.has_perm(APPROVE_COMPENSATION):
        wanted |= Q(approval_sum__gt=limit)
    if user.has_perm(WORK_IMPACT):
        wanted |= Q(approval_sum__lte=limit) & (Q(impact__owner=user) | Q(impact__account__owner=user))
    return (Compensation.objects.filter(state=CompensationState.PROPOSED).with_approval_total()
            .annotate(approval_sum=F("value") + F("others_counted")).filter(wanted))


def waiting_compensations(user) -> list[Compensation]:
    """Proposed compensation this user approves, oldest first: above the limit for a lead (with .needs_other_lead
    when they proposed it themselves), at or below it on the impacts an account manager works."""
    waiting = list(_proposed_for(user).select_related("impact__account", "impact__incident", "proposed_by")
                   .order_by("state_changed_at", "pk"))
    for compensation in waiting:
        compensation.needs_lead = account_rules.needs_lead_approval(compensation)  # annotated: no query
        compensation.needs_other_lead = compensation.needs_lead and compensation.proposed_by_id == user.pk
    return waiting


def awaiting_count_for(request) -> int | None:
    """awaiting_count for the request's user, worked out once per request (the menu and the dashboard share it)."""
    if not hasattr(request, "_awaiting_approval"):
        request._awaiting_approval = awaiting_count(request.user)
    return request._awaiting_approval


def awaiting_count(user) -> int | None:
    """How many things wait for this user's own approval (not those another lead must approve); None for users
    who approve nothing. A few queries, for the menu on every page."""
    if not sees_approvals(user):
        return None
    count = 0
    if user.has_perm(APPROVE_MESSAGE):
        submitted = Message.objects.filter(state=MessageState.SUBMITTED)
        theirs = submitted.filter(Q(author=user) | Q(template__written_by=user) | Q(pk__in=_edited_by(user, submitted)))
        theirs = theirs.select_related("incident", "template")
        count += submitted.count() - sum(1 for message in theirs if messaging.four_eyes_refusal(message, user))
    limit = Decimal(settings.COMPENSATION_APPROVAL_LIMIT)
    count += _proposed_for(user).exclude(approval_sum__gt=limit, proposed_by=user).count()
    return count


def _edited_by(user, messages) -> set[int]:
    """Which of these messages the user changed the text of (from the timeline, as messaging.authors reads it)."""
    entries = TimelineEntry.objects.filter(kind=TimelineKind.MESSAGE, actor=user, data__has_key="fields",
                                           incident_id__in=messages.values("incident_id"))
    content = set(messaging.CONTENT_FIELDS)
    return {data.get("message_id") for data in entries.values_list("data", flat=True)
            if set(data.get("fields") or ()) & content} - {None}


# --- Who is told ------------------------------------------------------------------------------------------

def people_who_may(permission: str) -> QuerySet:
    """Active users granted the permission (through a role or directly) who have an email address."""
    app_label, codename = permission.split(".")
    through_group = Q(groups__permissions__codename=codename,
                      groups__permissions__content_type__app_label=app_label)
    direct = Q(user_permissions__codename=codename, user_permissions__content_type__app_label=app_label)
    return (get_user_model().objects.filter(is_active=True).filter(through_group | direct).exclude(email="")
            .distinct().order_by("pk"))


def message_approvers(message: Message) -> list:
    """Every active lead who could approve it: on SEV1/SEV2 (four eyes) not one of its authors."""
    people = people_who_may(APPROVE_MESSAGE)
    if messaging.needs_four_eyes(message):
        people = people.exclude(pk__in=messaging.authors(message))
    return list(people)


def compensation_approvers(compensation: Compensation) -> list:
    """Every active lead who could approve it: not the person who proposed it."""
    return list(people_who_may(APPROVE_COMPENSATION).exclude(pk=compensation.proposed_by_id))


# --- Messages ---------------------------------------------------------------------------------------------

def message_saved(sender, instance: Message, raw: bool = False, **kwargs) -> None:
    """post_save on Message: a message that is (now) submitted is announced once its transaction commits. Saves
    of the same submission (an edit while it waits) find the claim on the timeline and send nothing."""
    if raw or instance.state != MessageState.SUBMITTED or instance.submitted_at is None:
        return
    message_id, submitted_at = instance.pk, instance.submitted_at
    transaction.on_commit(lambda: announce_message(message_id, submitted_at), robust=True)


def announce_message(message_id: int, submitted_at: datetime) -> bool:
    """Tell the leads who may approve this submission of the message. False when it is no longer waiting in that
    submission, or it was announced already."""
    stamp = submitted_at.isoformat()
    with transaction.atomic():  # the message row locked: two commits of one submission claim it once
        message = (Message.objects.select_for_update(of=("self",)).select_related("incident", "author")
                   .filter(pk=message_id).first())
        if message is None or message.state != MessageState.SUBMITTED or message.submitted_at != submitted_at:
            return False
        claimed = TimelineEntry.objects.filter(incident_id=message.incident_id, data__message_id=message.pk,
                                               data__awaiting_approval=stamp)
        if claimed.exists():
            return False
        people = message_approvers(message)
        record(message.incident, TimelineKind.MESSAGE,
               f"“{message.headline}” is waiting for approval; {_count(people, 'lead')} notified",
               message_id=message.pk, awaiting_approval=stamp, notified=len(people))
    incident = message.incident
    url = settings.SITE_URL + message.get_absolute_url()
    text = (f"{message.author} submitted “{message.headline}” ({message.get_phase_display().lower()}) for "
            f"{incident.severity} “{incident.title}”; it is waiting for approval.")
    failure = _announce(f"Waiting for your approval: {message.headline}", text, f"Approve or reject it: {url}",
                        people, "message.awaiting_approval", {
                            "message_id": message.pk, "incident_id": incident.pk, "severity": incident.severity,
                            "url": url})
    if failure:
        record(incident, TimelineKind.NOTE, f"Emailing the leads that “{message.headline}” is waiting for approval "
                                            f"failed: {failure}", message_id=message.pk)
    return True


def _announce(subject: str, text: str, where: str, people, event: str, payload: dict) -> str | None:
    """Email the approvers and post to internal webhooks; returns why the email failed, or None."""
    body = f"{text}\n\n{where}\nEverything waiting for you: {settings.SITE_URL}{reverse('approvals')}\n"
    failure = notify_people(subject, body, [person.email for person in people])
    notify_internal_webhooks(event, {**payload, "text": text})
    return failure


# --- Compensation (registered into accounts.hooks.awaiting_approval) ---------------------------------------

def announce_compensation(compensation: Compensation) -> bool:
    """accounts says this compensation started waiting for a lead: tell the leads who may approve it. False
    when, read again, it no longer waits for a lead."""
    compensation = (Compensation.objects.with_approval_total()
                    .select_related("impact__account", "impact__incident", "proposed_by")
                    .filter(pk=compensation.pk).first())
    if compensation is None or compensation.state != CompensationState.PROPOSED:
        return False
    if not account_rules.needs_lead_approval(compensation):
        return False
    impact = compensation.impact
    people = compensation_approvers(compensation)
    url = settings.SITE_URL + impact.get_absolute_url()
    text = (f"{compensation} for {impact.account} (incident “{impact.incident.title}”), proposed by "
            f"{compensation.proposed_by}, is waiting for a communications lead's approval: "
            f"{account_rules.above_limit_text(compensation)}")
    failure = _announce(f"Waiting for your approval: {compensation} for {impact.account}", text,
                        f"Approve it on the impact: {url}", people, "compensation.awaiting_approval", {
                            "compensation_id": compensation.pk, "impact_id": impact.pk,
                            "account_id": impact.account_id, "incident_id": impact.incident_id,
                            "value": str(compensation.value), "currency": compensation.currency, "url": url})
    if failure:
        record_impact(impact, AccountEventKind.REMINDER,
                      f"emailing the leads that {compensation} is waiting for approval failed: {failure}",
                      compensation_id=compensation.pk)
    return True


def _count(items: list, noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"

