"""The status page and its Atom feed, rendered without a visitor's request, so nothing about one visitor can end
up in the shared cache or the static export; the views and the export both call these."""

from django import forms
from django.conf import settings
from django.contrib.syndication.views import Feed
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import linebreaks
from django.utils.safestring import mark_safe

from comms import subscriptions
from comms.rendering import body_paragraphs, customer_text, status_page_url
from comms.statuspage import data
from incidents.models import Component

# The cached status page is the same for everyone, but its subscribe form needs each visitor's own CSRF
# token. The page is rendered with this mark in the token's place and the token is put in per request.
# Autoescaped text can never contain it ("<" becomes "&lt;"), so nothing else is ever replaced.
CSRF_MARK = mark_safe("<!--csrf-token-->")


class SubscribeForm(forms.Form):
    email = forms.EmailField(label="Email address", max_length=254)
    components = forms.ModelMultipleChoiceField(
        Component.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Only updates about",
        help_text="Leave all unticked to hear about everything.",
    )

    def clean_email(self):
        """One spelling per mailbox, so the per-address limit counts it once (comms.subscriptions)."""
        return subscriptions.normalise_address(self.cleaned_data["email"])


def render_status_page() -> str:
    """Rendered without the request, so nothing about one visitor can end up in the shared cache."""
    components = list(Component.objects.all())
    open_incidents, resolved_incidents = data.page_incidents()
    for incident in (*open_incidents, *resolved_incidents):
        for update in incident.public_updates:
            update.paragraphs = body_paragraphs(update)
            update.headline_shown = customer_text(update, update.headline)
    return render_to_string(
        "status/page.html",
        {
            "page_name": settings.STATUS_PAGE_NAME,
            "overall": data.status_indicator(
                [component.status for component in components], [incident.severity for incident in open_incidents]
            ),
            "components": components,
            "open_incidents": open_incidents,
            "resolved_incidents": resolved_incidents,
            "resolved_days": data.RESOLVED_SHOWN_DAYS,
            "form": SubscribeForm(),
            "csrf_input": CSRF_MARK,
            "time_zone": settings.TIME_ZONE,
        },
    )


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
        return (
            data.published_updates()
            .select_related("incident")
            .order_by("-published_at", "-id")[: data.INCIDENT_LIMIT]
        )

    def item_title(self, message):
        # Plain text: the XML writer escapes it, and readers show it as text.
        incident = message.incident
        return f"[{incident.public_status_label}] {incident.title}: {customer_text(message, message.headline)}"

    def item_description(self, message):
        return None  # the text goes in <content>

    def item_link(self, message):
        return data.incident_link(message.incident)

    def item_guid(self, message):
        return f"{status_page_url()}#update-{message.pk}"

    def item_pubdate(self, message):
        return message.published_at

    def item_updateddate(self, message):
        return message.published_at

    def item_extra_kwargs(self, message):
        return {"content": "".join(linebreaks(paragraph, autoescape=True) for paragraph in body_paragraphs(message))}


status_feed = StatusFeed()
