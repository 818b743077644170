import json
import re
from datetime import timedelta

from django import template
from django.template.loader import get_template
from django.utils import timezone

from core import csp

register = template.Library()


@register.filter
def duration(value: timedelta | None) -> str:
    """A compact age such as '2d 4h', '3h 12m' or '7m'."""
    if value is None:
        return "—"
    minutes = max(int(value.total_seconds() // 60), 0)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m"


@register.filter
def countdown(due, past: str = "") -> str:
    """'in 12m' before a due time, then 'overdue by 5m' (or `past`, if given). composer.js keeps it live."""
    if due is None:
        return "—"
    left = due - timezone.now()
    if left > timedelta(0):
        return f"in {duration(left)}"
    return past or f"overdue by {duration(-left)}"


@register.filter
def since(moment) -> timedelta | None:
    """How long ago a time was, for the duration filter."""
    return None if moment is None else timezone.now() - moment


@register.filter
def pretty_json(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


@register.simple_tag(takes_context=True)
def awaiting_approval_count(context) -> int | None:
    """What waits for the signed-in user's approval (messages, compensation; comms.approvals); None for users who
    approve nothing. Once per request, shared with the dashboard."""
    from comms.approvals import awaiting_count_for

    return awaiting_count_for(context["request"])


def email_style_hashes() -> tuple[str, ...]:
    """The hashes of the style attributes in the update email's HTML template (constant text: no variable is in one)."""
    source = get_template("comms/email/update-body.html").template.source
    return tuple(csp.source_hash(style) for style in dict.fromkeys(re.findall(r'\sstyle="([^"]*)"', source)))


@register.simple_tag(takes_context=True)
def allow_email_styles(context) -> str:
    """The email preview shows the email in a sandboxed iframe (srcdoc), which keeps this page's
    Content-Security-Policy: allow the email's own style attributes, by their hashes, on this page only."""
    request = context.get("request")
    if request is not None:
        csp.allow(request, "style-src-attr", "'unsafe-hashes'", *email_style_hashes())
    return ""
