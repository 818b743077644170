"""The texts of maintenance notices: the window's approved text under a first line written from the facts (what
happened and when). Plain strings: whoever shows them on a page escapes them."""

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from comms.rendering import SMS_STOP_NOTE, slack_escape, status_page_url
from comms.sms_text import fit, gsm_friendly
from incidents.choices import MaintenanceApproval
from incidents.models import Maintenance

PART_LABELS = {
    "what": "What we are doing",
    "why": "Why",
    "customer_impact": "What you will notice",
    "customer_action": "What you need to do",
}
SUBJECT_PREFIX = {
    "advance": "Scheduled maintenance",
    "started": "Maintenance started",
    "completed": "Maintenance completed",
    "rescheduled": "Maintenance rescheduled",
    "cancelled": "Maintenance cancelled",
}


def when(value) -> str:
    return f"{timezone.localtime(value):%a %d %b %Y, %H:%M %Z}"


def window_text(maintenance: Maintenance) -> str:
    start, end = timezone.localtime(maintenance.scheduled_for), timezone.localtime(maintenance.scheduled_until)
    same_day = start.date() == end.date()
    return f"{when(start)} – {end:%H:%M %Z}" if same_day else f"{when(start)} – {when(end)}"


def first_line(kind: str, maintenance: Maintenance, offset_seconds: int | None = None, at=None) -> str:
    """What happened and when, from the facts; the only text of a notice not approved word for word."""
    at = at or timezone.now()
    if kind == "advance":
        return f"Reminder: scheduled maintenance starts {_in(offset_seconds)}, at {when(maintenance.scheduled_for)}."
    if kind == "started":
        return f"Scheduled maintenance started at {when(maintenance.started_at or at)}."
    if kind == "completed":
        return f"Scheduled maintenance was completed at {when(maintenance.completed_at or at)}."
    if kind == "rescheduled":
        return f"Scheduled maintenance was rescheduled: it now runs {window_text(maintenance)}."
    if kind == "cancelled":
        return f"Scheduled maintenance planned for {window_text(maintenance)} was cancelled; it will not take place."
    raise ValueError(kind)


def _in(seconds: int | None) -> str:
    """"in 3 days", "in 10 hours", "in 45 minutes": the time left, rounded to what reads naturally."""
    if not seconds or seconds < 60:
        return "in a moment"
    for unit, size, threshold in (("day", 86400, 2 * 86400), ("hour", 3600, 2 * 3600), ("minute", 60, 0)):
        if seconds >= threshold:
            count = round(seconds / size)
            return f"in {count} {unit}{'s' if count != 1 else ''}"
    raise AssertionError("unreachable")  # pragma: no cover


def calendar_url() -> str:
    return settings.SITE_URL + reverse("status-maintenance-ics")


# A notice's title while the window's own words wait for approval (approved() is False).
UNAPPROVED_TITLE = "Scheduled maintenance"


def approved(maintenance: Maintenance) -> bool:
    """Whether a lead's approval covers the window's words (title, text, components) as they are now. An edit after
    approval sends the window back to waiting, off the status page; a notice sent meanwhile (the cancellation of such
    a window, or the rest of a fan-out under way when it was edited) carries its first line, written from the facts,
    and none of the words waiting for approval."""
    return maintenance.approval == MaintenanceApproval.APPROVED


def shown_title(maintenance: Maintenance) -> str:
    return maintenance.title if approved(maintenance) else UNAPPROVED_TITLE


def paragraphs(maintenance: Maintenance) -> list[tuple[str, str]]:
    if not approved(maintenance):
        return []
    return [(PART_LABELS[name], text.strip()) for name, text in maintenance.parts().items() if text.strip()]


def component_names(maintenance: Maintenance) -> str:
    if not approved(maintenance):
        return ""
    return ", ".join(component.name for component in maintenance.components.all())


def render_notice_email(notice, unsubscribe_url: str | None = None) -> tuple[str, str, str]:
    maintenance = notice.maintenance
    context = {
        "title": shown_title(maintenance),
        "first_line": notice.first_line,
        "subject_prefix": SUBJECT_PREFIX[notice.kind],
        "window": window_text(maintenance),
        "components": component_names(maintenance),
        "paragraphs": paragraphs(maintenance),
        "status_page_url": status_page_url(),
        "calendar_url": calendar_url(),
        "unsubscribe_url": unsubscribe_url,
    }
    subject = " ".join(render_to_string("comms/email/maintenance-subject.txt", context).split())
    text = str.__str__(render_to_string("comms/email/maintenance-body.txt", context))
    html = str.__str__(render_to_string("comms/email/maintenance-body.html", context))
    return subject, text, html


def render_notice_webhook(notice) -> dict:
    maintenance = notice.maintenance
    shown = approved(maintenance)
    return {
        "event": f"maintenance.{notice.kind}",
        "maintenance": {
            "id": maintenance.pk,
            "title": shown_title(maintenance),
            "state": maintenance.state,
            "scheduled_for": maintenance.scheduled_for.isoformat(),
            "scheduled_until": maintenance.scheduled_until.isoformat(),
            "components": [{"id": component.pk, "name": component.name}
                           for component in maintenance.components.all()] if shown else [],
            **{name: text if shown else "" for name, text in maintenance.parts().items()},
        },
        "notice": {"kind": notice.kind, "text": notice.first_line},
        "status_page_url": status_page_url(),
    }


def notice_parts(notice) -> tuple[str, str, list[str]]:
    """(title line, headline, paragraphs) of a notice as subscribers' chat channels show them, the shape
    comms.endpoints.kinds.headline_parts gives for a message: plain text, for each kind to escape its way."""
    maintenance = notice.maintenance
    affected = component_names(maintenance)
    return (
        f"[{SUBJECT_PREFIX[notice.kind]}] {shown_title(maintenance)}",
        notice.first_line,
        [f"{label}: {text}" for label, text in paragraphs(maintenance)]
        + [f"When: {window_text(maintenance)}"] + ([f"Affected: {affected}"] if affected else []),
    )


def render_notice_sms(notice) -> str:
    """As an update's text message: the page's name, the window's title and what happened, within
    SMS_MAX_SEGMENTS; then always the status page link and how to unsubscribe."""
    text = gsm_friendly(f"{settings.STATUS_PAGE_NAME}: {shown_title(notice.maintenance)} - {notice.first_line}")
    return fit(text, f"\n{status_page_url()}\n{SMS_STOP_NOTE}", settings.SMS_MAX_SEGMENTS)


def render_notice_slack(notice) -> dict:
    maintenance = notice.maintenance
    text = f"*{slack_escape(shown_title(maintenance))}*\n{slack_escape(notice.first_line)}"
    return {
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            *[{"type": "section", "text": {"type": "plain_text", "text": slack_escape(f"{label}: {paragraph}")}}
              for label, paragraph in paragraphs(maintenance)],
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{status_page_url()}|Status page>"}]},
        ],
    }
