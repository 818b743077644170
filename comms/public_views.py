"""Public pages, no login: the status page, its Atom feed, the Statuspage-compatible JSON, subscriptions.

The status page, the feed and the JSON are cached whole (comms.statuspage.cached), so a crowd of visitors
during an incident costs one render per change; invalidate_status_page() makes a change show at once.
"""

import hashlib
import json

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.syndication.views import Feed
from django.http import HttpResponse, HttpResponseNotModified
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import format_html, linebreaks
from django.utils.safestring import mark_safe
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from comms import statuspage, subscriptions
from comms.models import Component, Subscriber
from comms.rendering import body_paragraphs, status_page_url
from config import ratelimit

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


def _csrf_input(request) -> str:
    return format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request))


def _page(request, template: str, status: int = 200, **context) -> HttpResponse:
    """An uncached public page: the subscription pages, which differ per visitor and per link."""
    context = {"page_name": settings.STATUS_PAGE_NAME, "csrf_input": _csrf_input(request), **context}
    return render(request, template, context, status=status)


def _not_found(request, title: str, text: str) -> HttpResponse:
    return _page(request, "status/notice.html", status=404, title=title, text=text)


# --- The status page, its feed and JSON (cached) --------------------------------------------------


def _render_status_page() -> str:
    """Rendered without the request, so nothing about one visitor can end up in the shared cache."""
    components = list(Component.objects.all())
    open_incidents, resolved_incidents = statuspage.page_incidents()
    for incident in (*open_incidents, *resolved_incidents):
        for update in incident.public_updates:
            update.paragraphs = body_paragraphs(update)
    return render_to_string(
        "status/page.html",
        {
            "page_name": settings.STATUS_PAGE_NAME,
            "overall": statuspage.status_indicator(
                [component.status for component in components], [incident.severity for incident in open_incidents]
            ),
            "components": components,
            "open_incidents": open_incidents,
            "resolved_incidents": resolved_incidents,
            "resolved_days": statuspage.RESOLVED_SHOWN_DAYS,
            "form": SubscribeForm(),
            "csrf_input": CSRF_MARK,
            "time_zone": settings.TIME_ZONE,
        },
    )


def _page_parts(page: str) -> tuple[bytes, bytes | None]:
    """The page as bytes before and after the CSRF mark (None after it when the template has no form)."""
    head, mark, tail = page.partition(CSRF_MARK)
    return head.encode(), tail.encode() if mark else None


@login_not_required
@require_safe
def status_page(request):
    head, tail = statuspage.cached("page.html", _render_status_page, _page_parts)
    return HttpResponse(head if tail is None else b"".join((head, _csrf_input(request).encode(), tail)))


def _with_etag(body: str) -> tuple[bytes, str]:
    content = body.encode()
    return content, f'"{hashlib.blake2b(content, digest_size=12).hexdigest()}"'


def _cached_document(request, name: str, build, content_type: str) -> HttpResponse:
    """A cached document with an ETag: a client that already has this version gets 304 Not Modified."""
    content, etag = statuspage.cached(name, build, _with_etag)
    if etag in request.META.get("HTTP_IF_NONE_MATCH", ""):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(content, content_type=content_type)
    response["ETag"] = etag
    return response


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
            statuspage.published_updates()
            .select_related("incident")
            .order_by("-published_at", "-id")[: statuspage.INCIDENT_LIMIT]
        )

    def item_title(self, message):
        # Plain text: the XML writer escapes it, and readers show it as text.
        incident = message.incident
        return f"[{incident.public_status_label}] {incident.title}: {message.headline}"

    def item_description(self, message):
        return None  # the text goes in <content>

    def item_link(self, message):
        return statuspage.incident_link(message.incident)

    def item_guid(self, message):
        return f"{status_page_url()}#update-{message.pk}"

    def item_pubdate(self, message):
        return message.published_at

    def item_updateddate(self, message):
        return message.published_at

    def item_extra_kwargs(self, message):
        return {"content": "".join(linebreaks(paragraph, autoescape=True) for paragraph in body_paragraphs(message))}


status_feed = StatusFeed()


@login_not_required
@require_safe
def feed(request):
    return _cached_document(
        request, "feed.atom", lambda: status_feed(request).content.decode(), "application/atom+xml; charset=utf-8"
    )


def _json_view(name: str, build):
    @login_not_required
    @require_safe
    def view(request):
        response = _cached_document(request, name, lambda: json.dumps(build()), "application/json")
        response["Access-Control-Allow-Origin"] = "*"  # as Statuspage: status widgets read it from other sites
        return response

    return view


summary_json = _json_view("summary.json", statuspage.summary)
status_json = _json_view("status.json", statuspage.status)
components_json = _json_view("components.json", statuspage.components)
incidents_json = _json_view("incidents.json", statuspage.incidents)
unresolved_incidents_json = _json_view("incidents-unresolved.json", lambda: statuspage.incidents(unresolved_only=True))


# --- Subscriptions (double opt-in) ----------------------------------------------------------------


def _too_many_requests(request, form, wait: int, reason: str) -> HttpResponse:
    """429 with the form again and when to try: nothing was stored and no email sent."""
    refusal = f"{reason} Nothing was sent this time; please try again {ratelimit.describe_wait(wait)}."
    response = _page(request, "status/subscribe.html", status=429, form=form, refusal=refusal)
    response["Retry-After"] = str(wait)
    return response


@login_not_required
@require_POST
def subscribe(request):
    # Each request may cost an email: counted per client first, then (once the address is known) per address.
    wait = subscriptions.client_wait(request)
    if wait:
        form = SubscribeForm(initial={"email": request.POST.get("email", "")[:254]})
        return _too_many_requests(request, form, wait, "Too many subscription requests have come from your network.")
    form = SubscribeForm(request.POST)
    if not form.is_valid():
        return _page(request, "status/subscribe.html", status=400, form=form)
    wait = subscriptions.address_wait(form.cleaned_data["email"])
    if wait:
        return _too_many_requests(
            request, form, wait,
            "Confirmation emails for this address have been asked for too often. If you asked for one, use the link "
            "in the most recent email (check the spam folder too).",
        )
    subscriptions.subscribe(form.cleaned_data["email"], form.cleaned_data["components"])
    # The same answer whether or not the address was known, so the form cannot tell who subscribes.
    return _page(
        request,
        "status/notice.html",
        title="Check your inbox to confirm",
        text="If this address is not subscribed yet, we have sent it an email with a link to confirm. "
        "Nothing will be sent until the link is used.",
    )


@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request, token):
    """GET only shows a button: mail scanners fetch links, so only the visitor's POST confirms."""
    if request.method == "POST":
        subscriber = subscriptions.confirm(token)
    else:
        subscriber = Subscriber.objects.filter(confirm_token=token).first()
    if subscriber is None:
        return _not_found(
            request,
            "This confirmation link is not valid",
            "It may have been replaced by a newer one: use the link in the most recent email, or subscribe again.",
        )
    if request.method == "POST":
        return _page(
            request,
            "status/notice.html",
            title="Subscription confirmed",
            text=f"{subscriber.email} will now receive {settings.STATUS_PAGE_NAME} status updates by email.",
        )
    return _page(request, "status/confirm.html", subscriber=subscriber)


# RFC 8058 one-click unsubscribe: mail providers POST "List-Unsubscribe=One-Click" with no cookie or CSRF
# token. The secret token in the URL is the proof; GET never unsubscribes, so link prefetchers cannot.
@login_not_required
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token):
    if request.method == "POST":
        found = subscriptions.unsubscribe(token)
    else:
        found = Subscriber.objects.filter(unsubscribe_token=token).exists()
    if not found:
        return _not_found(
            request,
            "This unsubscribe link does not match any subscription",
            "If you have already unsubscribed, there is nothing more to do: this address gets no updates "
            "through this link.",
        )
    if request.method == "POST":
        return _page(
            request,
            "status/notice.html",
            title="You are unsubscribed",
            text=f"You will receive no more updates from the {settings.STATUS_PAGE_NAME} status page.",
        )
    return _page(request, "status/unsubscribe.html", token=token)
