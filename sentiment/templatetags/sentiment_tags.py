"""Template tags for sentiment: the incident's sentiment chart (server-side inline SVG, no script; its geometry is
in sentiment.charts) and small filters for the review queue."""

from urllib.parse import urlsplit, urlunsplit

from django import template
from django.urls import reverse

from sentiment.charts import BUCKET_MINUTES, MAX_BUCKETS, chart
from sentiment.models import Mention
from sentiment.overdue import time_left
from sentiment.trends import incident_series

register = template.Library()


# --- filters for the queue and the mention page ------------------------------------------------------------


@register.filter
def signed(value, places: int = 2) -> str:
    """A score with its sign, '+0.25' / '-0.60'; '—' when there is none."""
    if value is None or value == "":
        return "—"
    return f"{float(value):+.{int(places)}f}"


@register.filter
def thousands(value) -> str:
    return "—" if value is None else f"{value:,}"


@register.filter
def web_url(value: str) -> str:
    """The URL when it is http(s), else '' — a stored URL never becomes a javascript: link."""
    value = (value or "").strip()
    return value if value.lower().startswith(("https://", "http://")) else ""


@register.filter
def link_label(url: str, length: int = 48) -> str:
    """What a link to an http(s) URL from outside says: its host whole, then as much of the rest as fits in length.
    Never the user name a URL may carry before an "@" (https://support.example.com@evil.example/ is evil.example's
    page), and never a host cut short (a long name's end is the part that says whose it is)."""
    parts = urlsplit(url or "")
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        host += f":{parts.port}" if parts.port else ""
    except ValueError:
        pass
    rest = urlunsplit(("", "", parts.path, parts.query, parts.fragment))
    room = max(length - len(host), 2)
    return host + (rest if len(rest) <= room else rest[: room - 1] + "…")


@register.simple_tag
def reply_time(mention):
    """The time left to the mention's reply target, counted now: (text, overdue), or None when it has no target or
    is answered. `{% reply_time m as due %}`."""
    return time_left(mention)


@register.simple_tag
def open_sentiment_alert(incident):
    """The incident's open negative-spike alert, or None."""
    return incident.sentiment_alerts.filter(ended_at__isnull=True).order_by("-started_at").first()


# --- the chart --------------------------------------------------------------------------------------------


@register.inclusion_tag("sentiment/_chart.html")
def sentiment_chart(incident):
    """Mention volume per bucket (bars), mean compound (line, −1…+1) and a marker at each public message, with a
    table of each message's mean compound in the hour before and after it."""
    context = {"incident": incident, "json_url": reverse("api-incident-sentiment", args=[incident.pk])}
    linked = Mention.objects.filter(incident=incident).count()
    if not linked:
        return {**context, "empty": True}
    series = incident_series(incident, BUCKET_MINUTES, max_buckets=MAX_BUCKETS)
    return {**context, "linked": linked, **chart(series, incident.title)}
