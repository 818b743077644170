"""The status page's uptime bars: each day's text, read by screen readers and shown on hover or keyboard focus."""

from django import template
from django.utils.dateformat import format as format_date

from incidents.choices import ComponentStatus

register = template.Library()


@register.simple_tag
def day_label(day) -> str:
    """"3 Mar 2026: major outage, 60 minutes down. Incidents: Payments failing." (public incidents only: the
    bars are built from them alone)."""
    when = format_date(day.day, "j M Y")
    if day.status is None:
        return f"{when}: no data."
    minutes = day.minutes_down_whole
    text = f"{when}: {ComponentStatus(day.status).label.lower()}"
    text += f", {minutes} minute{'s' if minutes != 1 else ''} down." if minutes else ", no downtime."
    if day.incidents:
        text += " Incidents: " + "; ".join(incident.title for incident in day.incidents) + "."
    return text
