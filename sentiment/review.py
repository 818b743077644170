"""The support review queue: assign, respond (optionally as an X reply), escalate, dismiss.

Each function checks the role (sentiment.review_mention) and the state machine, raising PermissionDenied
(403) or TransitionNotAllowed (409), and writes the incident timeline when the mention is linked.

Everyone who may read the incident reads its timeline, but a mention is readable only by reviewers and by the
manager who owns its account (visible_mentions). So a timeline entry names the mention by number ("Mention 12
dismissed") with `mention_id` in its data, and never carries its text, its author's handle or a reviewer's note
about it; whoever may read the mention follows the id. Only an escalation email carries the text, and it goes
only to people who may read the mention.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.services import follow_up_escalation
from comms.delivery import enqueue_queued
from comms.models import Delivery
from core.notify import notify_people
from core.roles import COMMS_LEAD
from incidents.choices import TimelineKind
from incidents.services import record
from sentiment.choices import OPEN_REVIEW_STATES, REVIEW_MACHINE, DismissReason, ReviewState
from sentiment.models import Mention
from sentiment.sources import replies


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
    limit = Mention._meta.get_field("review_note").max_length
    if len(note) > limit:  # the pages pass the posted note straight in; the API's serializers bound it already
        raise ValidationError({"note": f"Keep it to {limit:,} characters (this one has {len(note):,})."})
    mention = Mention.objects.select_for_update(of=("self",)).select_related("incident", "account").get(pk=mention.pk)
    REVIEW_MACHINE.check(mention.review_state, target)
    mention.review_state = target
    mention.reviewed_at = timezone.now()
    mention.dismiss_reason = ""  # only a dismissal carries one, and only the latest outcome counts
    for name, value in fields.items():
        setattr(mention, name, value)
    if note:
        mention.review_note = note
    mention.save()
    if mention.incident_id:
        record(mention.incident, TimelineKind.NOTE, f"Mention {mention.pk} {verb}", actor, mention_id=mention.pk,
               review_state=target)
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
        mention = _move(mention, ReviewState.RESPONDED, actor, text,
                        verb="answered" + (f" on {replies.network_name(mention)}" if post_to_x else ""),
                        assignee=mention.assignee or actor)
        if post_to_x:  # on the network the mention came from (sentiment.sources.replies)
            reply = Delivery.objects.create(in_reply_to=replies.reply_target(mention),
                                            channel=replies.reply_channel(mention),
                                            recipient=f"reply:{mention.external_id}", body=text)
            mention.replies.add(reply)
            # robust: with the broker down the response is still recorded; sweep_deliveries sends the reply later
            transaction.on_commit(lambda: enqueue_queued(delivery_ids=[reply.pk]), robust=True)
    return mention


def _check_x_reply(mention: Mention, text: str) -> None:
    """post_to_x: a reply on the mention's own network (sentiment.sources.replies)."""
    replies.check_reply(mention, text)


def may_read(user, mention: Mention) -> bool:
    return user.is_active and visible_mentions(user).filter(pk=mention.pk).exists()


def escalation_recipients(mention: Mention) -> list:
    """Who is emailed about an escalated mention: the owner of its account; or the communications leads when it
    has no account, the account has no owner, or the owner cannot be reached (inactive, no email address) or may
    not read it. Each of them may read the mention, so the email may carry its text."""
    owner = mention.account.owner if mention.account_id else None
    if owner is not None and owner.email and may_read(owner, mention):
        return [owner]
    leads = get_user_model().objects.filter(is_active=True, groups__name=COMMS_LEAD).exclude(email="").distinct()
    return [lead for lead in leads.order_by("pk") if may_read(lead, mention)]


def escalate(mention: Mention, *, actor, note: str = "") -> Mention:
    """Hand the customer to account management: a follow-up call for the owner of the mention's account on that
    account's impact (when it has an account, an incident and an owner), and an email to the account's owner — or,
    without an account or an owner, to the communications leads; never to every account manager."""
    with transaction.atomic():
        mention = _move(mention, ReviewState.ESCALATED, actor, note, verb="escalated to account management",
                        assignee=mention.assignee or actor)
        follow_up = follow_up_escalation(mention, actor=actor)
    people = escalation_recipients(mention)
    links = [settings.SITE_URL + reverse("mention-detail", args=[mention.pk])]
    if follow_up is not None and follow_up.owner in people:
        links.append(f"The follow-up call on the impact: {settings.SITE_URL}{follow_up.impact.get_absolute_url()}")
    failure = notify_people(
        f"Escalated: {mention.author_handle or mention.get_source_display()} needs account follow-up",
        f"{actor} escalated this mention:\n\n{mention.text}\n\nNote: {note or '—'}\n\n" + "\n".join(links) + "\n",
        [person.email for person in people],
    )
    if failure and mention.incident_id:
        record(mention.incident, TimelineKind.NOTE, f"Emailing about the escalation of mention {mention.pk} failed: "
               f"{failure}", actor, mention_id=mention.pk)
    return mention


def dismiss(mention: Mention, *, actor, reason: str = "", kind: str = "") -> Mention:
    """No action needed. `kind` (a DismissReason) labels the flag for the quality page; the reason may say more.
    One of the two is required: a dismissal nobody can read teaches nothing."""
    reason = (reason or "").strip()
    if kind and kind not in DismissReason.values:
        raise ValidationError({"kind": f"Choose one of: {', '.join(DismissReason.values)}."})
    if not reason and not kind:
        raise ValidationError({"reason": "Say why it needs no action (e.g. not negative, not about us, already "
                                         "answered elsewhere)."})
    return _move(mention, ReviewState.DISMISSED, actor, reason or DismissReason(kind).label, verb="dismissed",
                 dismiss_reason=kind)  # the reason stays on the mention
