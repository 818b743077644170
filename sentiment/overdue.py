"""Reply targets of flagged mentions: the time left on each (shown in the queue and on a mention's page), and the
beat sweep that tells people, once, about a mention still waiting for an answer past its target.

Who is told: the assignee when it has one who can be emailed and still reviews mentions; otherwise support staff and
communications leads. Everyone told may read the mention. A linked incident's timeline gets a note that names the
mention by number only (see sentiment.review on why never its text or author).
"""

from collections import defaultdict
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from core.notify import notify_people
from core.roles import COMMS_LEAD, SUPPORT
from incidents.choices import TimelineKind
from incidents.services import record
from sentiment.choices import OPEN_REVIEW_STATES
from sentiment.models import Mention

OVERDUE_PER_RUN = 500  # the rest wait for the next minute's run


class TimeLeft(NamedTuple):
    text: str  # "due in 12 min", "overdue by 5 min"
    overdue: bool


def duration_words(seconds: float) -> str:
    """'less than a minute', '12 min', '3 h 5 min', '2 days' (whole units, rounded down)."""
    minutes = int(seconds // 60)
    if minutes < 1:
        return "less than a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    return f"{hours // 24} days"


def time_left(mention: Mention, now=None) -> TimeLeft | None:
    """How long until the mention's reply target, or how long past it; None when it has no target or is no
    longer waiting for an answer (responded, escalated, dismissed)."""
    if mention.reply_due_at is None or mention.review_state not in OPEN_REVIEW_STATES:
        return None
    seconds = (mention.reply_due_at - (now or timezone.now())).total_seconds()
    if seconds >= 0:
        return TimeLeft(f"due in {duration_words(seconds)}", False)
    return TimeLeft(f"overdue by {duration_words(-seconds)}", True)


def overdue_mentions(now):
    """Flagged mentions still waiting for an answer past their target, not yet announced (index mention_urgent)."""
    return Mention.objects.filter(flagged=True, review_state__in=OPEN_REVIEW_STATES, overdue_alerted_at__isnull=True,
                                  reply_due_at__lte=now)


def escalate_overdue_mentions(now=None) -> int:
    """Claim each overdue mention with a conditional update (a second beat running at once claims none of them
    again), then tell people: one email per assignee and one to the team for the unassigned, and a note on each
    linked incident's timeline. A claim is kept whatever the email does: announced once, never again. Returns
    how many were claimed."""
    now = now or timezone.now()
    waiting = overdue_mentions(now)
    ids = list(waiting.order_by("priority", "reply_due_at", "pk").values_list("pk", flat=True)[:OVERDUE_PER_RUN])
    claimed = [pk for pk in ids if waiting.filter(pk=pk).update(overdue_alerted_at=now)]
    if not claimed:
        return 0
    mentions = Mention.objects.filter(pk__in=claimed).select_related("assignee", "incident").order_by(
        "priority", "reply_due_at", "pk")
    by_assignee = defaultdict(list)
    for mention in mentions:
        by_assignee[_reachable_assignee(mention)].append(mention)
    for assignee, theirs in by_assignee.items():
        people = [assignee.email] if assignee is not None else _team()
        failure = notify_people(_subject(theirs), _body(theirs, now), people)
        outcome = f"Told {len(people)} {'person' if len(people) == 1 else 'people'}." if failure is None else (
            f"Telling people failed: {failure}.")
        for mention in theirs:
            if mention.incident_id:
                record(mention.incident, TimelineKind.NOTE,
                       f"Mention {mention.pk} ({mention.get_priority_display().lower()} priority) is past its reply "
                       f"target. {outcome}", mention_id=mention.pk, priority=mention.priority)
    return len(claimed)


def _reachable_assignee(mention: Mention):
    assignee = mention.assignee
    if assignee is not None and assignee.is_active and assignee.email and assignee.has_perm(
            "sentiment.review_mention"):
        return assignee
    return None


def _team() -> list[str]:
    return list(
        get_user_model().objects.filter(is_active=True, groups__name__in=[SUPPORT, COMMS_LEAD]).exclude(email="")
        .order_by("email").values_list("email", flat=True).distinct()
    )


def _subject(mentions: list[Mention]) -> str:
    if len(mentions) == 1:
        mention = mentions[0]
        return (f"Past its reply target: {mention.get_priority_display().lower()} priority mention from "
                f"{mention.author_handle or mention.author_name or mention.get_source_display()}")
    return f"{len(mentions)} mentions are past their reply target"


def _body(mentions: list[Mention], now) -> str:
    lines = ["Still waiting for an answer past the reply target:", ""]
    for mention in mentions:
        late = time_left(mention, now)
        who = mention.author_handle or mention.author_name or mention.get_source_display()
        lines += [
            f"- {mention.get_priority_display()} priority, {late.text if late else 'overdue'}: {who}",
            f"  “{mention.text[:200]}”",
            f"  {settings.SITE_URL}{reverse('mention-detail', args=[mention.pk])}",
        ]
    lines += ["", f"The queue, most urgent first: {settings.SITE_URL}{reverse('mentions')}?sort=urgent"]
    return "\n".join(lines) + "\n"
