"""Overdue follow-ups: the owner is emailed once per FOLLOW_UP_REMINDER_HOURS per task, and it is recorded."""

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from accounts.choices import AccountEventKind
from accounts.models import FollowUp
from accounts.services import record
from core.notify import notify_people


def remind_overdue_follow_ups(now=None) -> int:
    """Returns how many owners were reminded. Safe with two beats: each reminder is claimed by a conditional
    update of reminded_at before the email goes out."""
    now = now or timezone.now()
    quiet = timezone.timedelta(hours=settings.FOLLOW_UP_REMINDER_HOURS)
    due = (
        FollowUp.objects.filter(done_at__isnull=True, due_at__lte=now)
        .filter(Q(reminded_at__isnull=True) | Q(reminded_at__lte=now - quiet))
        .select_related("owner", "impact__account", "impact__incident")
        .order_by("due_at")
    )
    reminded = 0
    for follow_up in due.iterator(500):
        claimed = FollowUp.objects.filter(pk=follow_up.pk, reminded_at=follow_up.reminded_at).update(reminded_at=now)
        if not claimed:
            continue
        impact = follow_up.impact
        late = int((now - follow_up.due_at).total_seconds() // 3600)
        url = settings.SITE_URL + impact.get_absolute_url()
        subject = f"Overdue: {follow_up.get_kind_display().lower()} with {impact.account}"
        body = (f"{follow_up.summary}\n\nDue {follow_up.due_at:%Y-%m-%d %H:%M} ({late} h ago), for the incident "
                f"“{impact.incident.title}”.\n\nRecord the outcome: {url}\n")
        recipients = [follow_up.owner.email] if follow_up.owner.email else []
        failure = notify_people(subject, body, recipients)
        if not recipients:
            outcome = f"{follow_up.owner} has no email address to remind"
        elif failure:
            outcome = f"reminding {follow_up.owner} failed: {failure}"
        else:
            outcome = f"{follow_up.owner} reminded by email"
        record(impact.account, AccountEventKind.REMINDER, f"follow-up overdue ({follow_up.summary}); {outcome}",
               impact=impact, follow_up_id=follow_up.pk)
        reminded += 1
    return reminded
