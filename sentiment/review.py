"""The support review queue: assign, respond (optionally as an X reply), escalate, dismiss.

Each function checks the role (sentiment.review_mention) and the state machine, raising PermissionDenied
(403) or TransitionNotAllowed (409), and writes the incident timeline when the mention is linked.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.services import follow_up_escalation
from comms.delivery import enqueue_queued
from comms.models import Delivery
from comms.rendering import x_weighted_length
from core.notify import notify_people
from core.roles import ACCOUNT_MANAGER
from incidents.choices import TimelineKind
from incidents.services import record
from sentiment.choices import OPEN_REVIEW_STATES, REVIEW_MACHINE, ReviewState, Source
from sentiment.models import Mention


def visible_mentions(user):
    """Reviewers see every mention; account managers only those linked to the accounts they own."""
    if user.has_perm("sentiment.review_mention"):
        return Mention.objects.all()
    if user.has_perm("sentiment.view_mention"):
        return Mention.objects.filter(account__owner=user)
    return Mention.objects.none()


def unreviewed_blockers(incident) -> list[str]:
    """Registered in incidents.hooks.close_checks: flagged mentions linked to the incident must be reviewed."""
    waiting = Mention.objects.filter(incident=incident, flagged=True, review_state__in=OPEN_REVIEW_STATES).count()
    if not waiting:
        return []
    return [f"{waiting} flagged mention{'s' if waiting != 1 else ''} {'is' if waiting == 1 else 'are'} "
            "still unreviewed in the review queue"]


def _check_reviewer(actor):
    if not actor.has_perm("sentiment.review_mention"):
        raise PermissionDenied("Only support staff and communications leads act on mentions.")


@transaction.atomic
def _move(mention: Mention, target: str, actor, note: str, *, verb: str, **fields) -> Mention:
    _check_reviewer(actor)
    mention = Mention.objects.select_for_update(of=("self",)).select_related("incident", "account").get(pk=mention.pk)
    REVIEW_MACHINE.check(mention.review_state, target)
    mention.review_state = target
    mention.reviewed_at = timezone.now()
    for name, value in fields.items():
        setattr(mention, name, value)
    if note:
        mention.review_note = note
    mention.save()
    if mention.incident_id:
        who = f"@{mention.author_handle}" if mention.author_handle else f"{mention.get_source_display()} mention"
        record(mention.incident, TimelineKind.NOTE, f"Mention from {who} {verb}", actor, mention_id=mention.pk)
    return mention


def assign(mention: Mention, *, actor, assignee=None) -> Mention:
    assignee = assignee or actor
    if not assignee.has_perm("sentiment.review_mention"):
        raise ValidationError({"assignee": f"{assignee} does not review mentions."})
    return _move(mention, ReviewState.IN_REVIEW, actor, "", verb=f"assigned to {assignee}", assignee=assignee)


def respond(mention: Mention, *, actor, text: str, post_to_x: bool = False) -> Mention:
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Write the response you gave (or will post)."})
    if post_to_x:
        _check_x_reply(mention, text)
    with transaction.atomic():
        mention = _move(mention, ReviewState.RESPONDED, actor, text, verb="answered" + (" on X" if post_to_x else ""),
                        assignee=mention.assignee or actor)
        if post_to_x:
            reply = Delivery.objects.create(in_reply_to=mention.external_id, channel="x",
                                            recipient=f"reply:{mention.external_id}", body=text)
            mention.replies.add(reply)
            # robust: with the broker down the response is still recorded; sweep_deliveries sends the reply later
            transaction.on_commit(lambda: enqueue_queued(delivery_ids=[reply.pk]), robust=True)
    return mention


def _check_x_reply(mention: Mention, text: str) -> None:
    if mention.source != Source.X:
        raise ValidationError({"post_to_x": "Only a mention that came from X can be answered on X."})
    if not settings.X_CONFIGURED:
        raise ValidationError({"post_to_x": "X is not configured: set X_API_KEY, X_API_SECRET, X_ACCESS_TOKEN "
                                            "and X_ACCESS_TOKEN_SECRET."})
    length = x_weighted_length(text)
    if length > 280:
        raise ValidationError({"text": f"An X reply holds 280 weighted characters; this has {length}."})


def escalate(mention: Mention, *, actor, note: str = "") -> Mention:
    """Hand the customer to account management: a follow-up call for the owner of the mention's account on that
    account's impact, or, when the mention is not tied to an owned account and incident, an email to every
    account manager."""
    with transaction.atomic():
        mention = _move(mention, ReviewState.ESCALATED, actor, note, verb="escalated to account management",
                        assignee=mention.assignee or actor)
        follow_up = follow_up_escalation(mention, actor=actor)
    if follow_up is not None:
        recipients = [follow_up.owner.email] if follow_up.owner.email else []
        url = settings.SITE_URL + follow_up.impact.get_absolute_url()
    else:
        recipients = list(
            get_user_model().objects.filter(is_active=True, groups__name=ACCOUNT_MANAGER).exclude(email="")
            .values_list("email", flat=True)
        )
        url = settings.SITE_URL + f"/mentions/{mention.pk}/"
    failure = notify_people(
        f"Escalated: {mention.author_handle or mention.get_source_display()} needs account follow-up",
        f"{actor} escalated this mention:\n\n{mention.text}\n\nNote: {note or '—'}\n\n{url}\n",
        recipients,
    )
    if failure and mention.incident_id:
        record(mention.incident, TimelineKind.NOTE, f"Emailing the account managers about an escalation failed: "
               f"{failure}", actor, mention_id=mention.pk)
    return mention


def dismiss(mention: Mention, *, actor, reason: str) -> Mention:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why it needs no action (e.g. spam, not about us, already handled)."})
    return _move(mention, ReviewState.DISMISSED, actor, reason, verb=f"dismissed: {reason}")

