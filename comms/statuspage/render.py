"""The status page and its Atom feed, rendered without a visitor's request, so nothing about one visitor can end
up in the shared cache or the static export; the views and the export both call these."""

import re

from django import forms
from django.conf import settings
from django.contrib.syndication.views import Feed
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import linebreaks

from comms import subscriptions
from comms.rendering import body_paragraphs, customer_text, status_page_url
from comms.statuspage import data
from comms.statuspage import maintenance as public_maintenance
from core.forms import IdsChoiceField
from incidents import history
from incidents.models import Component, ComponentGroup


class SubscribeForm(forms.Form):
    email = forms.EmailField(label="Email address", max_length=254)
    components = IdsChoiceField(
        Component.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Only updates about",
        help_text="Leave all unticked to hear about everything.",
    )
    groups = IdsChoiceField(
        ComponentGroup.objects.filter(components__isnull=False).distinct(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Or whole groups",
        help_text="A group stands for all of its components.",
    )

    def clean_email(self):
        """One spelling per mailbox, so the per-address limit counts it once (comms.subscriptions)."""
        return subscriptions.normalise_address(self.cleaned_data["email"])


def uptime_rows(components: list[Component]) -> list:
    """The page's rows (data.page_rows), each component and group with .uptime: its 90 days of bars and its uptime
    over 30 and 90 days, in the page's time zone. Worked out here, so only when the page is rendered (once per
    public change, or per STATUS_PAGE_CACHE_SECONDS, which also brings in a new day)."""
    rows = data.page_rows(components)
    groups = [row.group for row in rows if row.is_group]
    by_component, by_group = history.page_histories(components, groups, timezone.get_default_timezone())
    for row in rows:
        row.uptime = by_group[row.pk] if row.is_group else by_component[row.pk]
        for member in getattr(row, "members", ()):
            member.uptime = by_component[member.pk]
    return rows


# A run of white space with a line break in it: the templates' indentation. The page has no <pre>, <textarea> or
# white-space: pre styling, so a browser shows one line break as it shows the whole run; dropping the rest is a
# tenth of the page's bytes (76 → 69 KiB), which every visitor downloads and every request writes.
_INDENTATION = re.compile(r"[ \t]*\n\s*")


def render_status_page() -> str:
    """Rendered without the request, so nothing about one visitor can end up in the shared cache."""
    components = list(Component.objects.all())
    rows = uptime_rows(components)
    open_incidents, resolved_incidents = data.page_incidents()
    for incident in (*open_incidents, *resolved_incidents):
        for update in incident.public_updates:
            update.paragraphs = body_paragraphs(update)
            update.headline_shown = customer_text(update, update.headline)
    page = render_to_string(
        "status/page.html",
        {
            "page_name": settings.STATUS_PAGE_NAME,
            "overall": data.status_indicator(
                [component.status for component in components], [incident.severity for incident in open_incidents]
            ),
            "components": components,
            "rows": rows,
            "bar_days": history.BAR_DAYS,
            "short_days": history.SHORT_DAYS,
            "open_incidents": open_incidents,
            "resolved_incidents": resolved_incidents,
            "resolved_days": data.RESOLVED_SHOWN_DAYS,
            **public_maintenance.page_windows(),
            "time_zone": settings.TIME_ZONE,
        },
    )
    return _INDENTATION.sub("\n", page)


# --- Embeds: the status badge and the banner page other sites put in an iframe ---------------------------

BADGE_COLOURS = {  # Statuspage indicator → colour (the status page's own, dark enough for white text)
    "none": "#15803d",
    "minor": "#a16207",
    "major": "#c2410c",
    "critical": "#b91c1c",
    "maintenance": "#1d4ed8",
}
COMPONENT_BADGE_INDICATOR = {**data.COMPONENT_INDICATOR, "under_maintenance": "maintenance"}
BADGE_LABEL_COLOUR = "#374151"


def _text_width(text: str) -> int:
    """About how wide text is in 11 px Verdana, the badge's font (no font metrics on the server)."""
    return int(sum(7.5 if char.isupper() or char in "mwMW" else 6.2 for char in text)) + 12


def render_badge(component: Component | None = None) -> str:
    """A small SVG like a build badge: the page's name (or the component's) and its status, in the status colour.
    Its text is in a <title> and aria-label too, so an <img alt> is not the only way to read it."""
    if component is None:
        overall = data.status()["status"]
        label, value = "status", overall["description"]
        colour = BADGE_COLOURS["maintenance" if value == data.MAINTENANCE_DESCRIPTION else overall["indicator"]]
    else:
        label, value = component.name, component.get_status_display()
        colour = BADGE_COLOURS[COMPONENT_BADGE_INDICATOR[component.status]]
    left, right = _text_width(label), _text_width(value)
    return render_to_string("status/badge.svg", {
        "label": label, "value": value, "colour": colour, "label_colour": BADGE_LABEL_COLOUR,
        "left": left, "right": right, "width": left + right, "label_x": left // 2, "value_x": left + right // 2,
    })


def render_embed() -> str:
    """The banner page for an iframe on a customer's own site: the overall status and the open public incidents
    with their latest public update; no script, links open the status page in a new tab."""
    open_incidents, _ = data.page_incidents()
    for incident in open_incidents:
        latest = incident.public_updates[0] if incident.public_updates else None
        incident.latest_headline = customer_text(latest, latest.headline) if latest else ""
    components = list(Component.objects.values_list("status", flat=True))
    return render_to_string("status/embed.html", {
        "page_name": settings.STATUS_PAGE_NAME,
        "overall": data.status_indicator(components, [incident.severity for incident in open_incidents]),
        "open_incidents": open_incidents,
        "status_page_url": status_page_url(),
    })


class EarsAtomFeed(Atom1Feed):
    """Atom with each update's full text as <content type="html">; Django's Atom1Feed writes only <summary>."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        handler.addQuickElement("content", item["content"], {"type": "html"})


class StatusFeed(Feed):
    """Published public updates, newest first. Every link is absolute (SITE_URL), never the request's host."""

    feed_type = EarsAtomFeed

    def title(self):
        return f"{settings.STATUS_PAGE_NAME} status"

    def subtitle(self):
        return f"Incident updates from the {settings.STATUS_PAGE_NAME} status page."

    def link(self):
        return status_page_url()

    def feed_url(self):
        return settings.SITE_URL + reverse("status-feed")

    def author_name(self):
        return settings.STATUS_PAGE_NAME

    def items(self):
        updates = list(
            data.published_updates()
            .select_related("incident")
            .order_by("-published_at", "-id")[: data.INCIDENT_LIMIT]
        )
        # Maintenance windows' public moments (public_maintenance.FeedEntry) among the updates, newest first.
        entries = updates + public_maintenance.feed_entries()
        entries.sort(key=lambda item: item.at if isinstance(item, public_maintenance.FeedEntry) else item.published_at,
                     reverse=True)
        return entries[: data.INCIDENT_LIMIT]

    def item_title(self, message):
        if isinstance(message, public_maintenance.FeedEntry):
            return message.title
        # Plain text: the XML writer escapes it, and readers show it as text.
        incident = message.incident
        return f"[{incident.public_status_label}] {incident.title}: {customer_text(message, message.headline)}"

    def item_description(self, message):
        return None  # the text goes in <content>

    def item_link(self, message):
        if isinstance(message, public_maintenance.FeedEntry):
            return public_maintenance.window_link(message.window)
        return data.incident_link(message.incident)

    def item_guid(self, message):
        if isinstance(message, public_maintenance.FeedEntry):
            return f"{status_page_url()}#maintenance-{message.window.pk}-{message.key}"
        return f"{status_page_url()}#update-{message.pk}"

    def item_pubdate(self, message):
        if isinstance(message, public_maintenance.FeedEntry):
            return message.at
        return message.published_at

    def item_updateddate(self, message):
        if isinstance(message, public_maintenance.FeedEntry):
            return message.at
        return message.published_at

    def item_extra_kwargs(self, message):
        if isinstance(message, public_maintenance.FeedEntry):
            return {"content": linebreaks(message.text, autoescape=True)}
        return {"content": "".join(linebreaks(paragraph, autoescape=True) for paragraph in body_paragraphs(message))}


status_feed = StatusFeed()
