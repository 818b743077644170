"""The status page's uptime bars: each day's text, read by screen readers and shown on hover or keyboard focus.

Quiet days in a row (no data, or operational with no downtime and no incident) are one bar of their width (class
span-N) with one text ("6 Sep – 4 Dec 2026: operational, no downtime."): a component's 90 quiet days are one item,
not 90, for the page's weight (a dozen bars were 171 KiB) and for screen readers, which read one sentence instead of
ninety. A day with something to say is a bar of its own and a tab stop."""

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Run:
    status: str  # the CSS class's status: "none" for no data
    days: int
    label: str
    focusable: bool


def _quiet(day) -> bool:
    return (day.status is None or day.status == ComponentStatus.OPERATIONAL) and not day.incidents and not (
        day.status is not None and day.minutes_down_whole)


@register.simple_tag
def day_runs(days) -> list[Run]:
    """The bar's items, oldest first: runs of quiet days of one status, and every other day on its own."""
    runs, quiet = [], []

    def close_quiet():
        if quiet:
            first, last = quiet[0], quiet[-1]
            label = day_label(first) if len(quiet) == 1 else (
                f"{format_date(first.day, 'j M')} – {day_label(last)}")
            runs.append(Run(first.status or "none", len(quiet), label, False))
            quiet.clear()

    for day in days:
        if _quiet(day):
            if quiet and quiet[-1].status != day.status:
                close_quiet()
            quiet.append(day)
        else:
            close_quiet()
            runs.append(Run(day.status or "none", 1, day_label(day), True))
    close_quiet()
    return runs
