"""Public pages, no login: the status page, its Atom feed, the Statuspage-compatible JSON, subscriptions.

The status page, the feed and the JSON are cached whole (comms.data.cached), so a crowd of visitors
during an incident costs one render per change; invalidate_status_page() makes a change show at once.
"""

import hashlib
import json

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotFound, HttpResponseNotModified
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.utils.html import format_html
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from comms import subscriptions
from comms.models import Subscriber
from comms.statuspage import cache, data
from comms.statuspage import render as public_render
from core import csp, ratelimit
from incidents.models import Component


def _csrf_input(request) -> str:
    return format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request))


def _page(request, template: str, status: int = 200, **context) -> HttpResponse:
    """An uncached public page: the subscription pages, which differ per visitor and per link."""
    context = {"page_name": settings.STATUS_PAGE_NAME, "csrf_input": _csrf_input(request), **context}
    return render(request, template, context, status=status)


def _not_found(request, title: str, text: str) -> HttpResponse:
    return _page(request, "status/notice.html", status=404, title=title, text=text)


# --- The status page, its feed and JSON (cached) --------------------------------------------------


@login_not_required
@require_safe
def status_page(request):
    """The same bytes for every visitor: no form, no CSRF token, no cookie (the ways to subscribe are links to
    pages of their own), so the whole response is cached, and a visitor who has this version gets 304."""
    return _cached_document(request, "page.html", public_render.render_status_page, "text/html; charset=utf-8")


def _with_etag(body: str) -> tuple[bytes, str]:
    content = body.encode()
    return content, f'"{hashlib.blake2b(content, digest_size=12).hexdigest()}"'


def _cached_document(request, name: str, build, content_type: str) -> HttpResponse:
    """A cached document with an ETag: a client that already has this version gets 304 Not Modified."""
    content, etag = cache.cached(name, build, _with_etag)
    if etag in request.META.get("HTTP_IF_NONE_MATCH", ""):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(content, content_type=content_type)
    response["ETag"] = etag
    return response


@login_not_required
@require_safe
def feed(request):
    return _cached_document(
        request,
        "feed.atom",
        lambda: public_render.status_feed(request).content.decode(),
        "application/atom+xml; charset=utf-8",
    )


def _json_view(name: str, build):
    @login_not_required
    @require_safe
    def view(request):
        response = _cached_document(request, name, lambda: json.dumps(build()), "application/json")
        response["Access-Control-Allow-Origin"] = "*"  # as Statuspage: status widgets read it from other sites
        return response

    return view


summary_json = _json_view("summary.json", data.summary)
status_json = _json_view("status.json", data.status)
components_json = _json_view("components.json", data.components)
incidents_json = _json_view("incidents.json", data.incidents)
unresolved_incidents_json = _json_view("incidents-unresolved.json", lambda: data.incidents(unresolved_only=True))


# --- Embeds: the badge and the banner for other sites (cached like the rest) -------------------------


@login_not_required
@require_safe
def badge(request):
    """/status/badge.svg: the overall status; ?component=<id> that component's. Unknown ids are a 404 and
    malformed ones a 400, so nothing a visitor types becomes a cache entry."""
    raw = request.GET.get("component")
    if raw is None:
        name, build = "badge.svg", public_render.render_badge
    else:
        if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
            return HttpResponseBadRequest("component must be a component id, e.g. ?component=3",
                                          content_type="text/plain; charset=utf-8")
        component = Component.objects.filter(pk=int(raw)).first()
        if component is None:
            return HttpResponseNotFound("No such component.", content_type="text/plain; charset=utf-8")
        name, build = f"badge-{component.pk}.svg", lambda: public_render.render_badge(component)
    response = _cached_document(request, name, build, "image/svg+xml")
    response["Access-Control-Allow-Origin"] = "*"
    return response


def embed_policy() -> str:
    """The site's Content-Security-Policy with frame-ancestors opened to STATUS_EMBED_FRAME_ANCESTORS: this page,
    and no other, may be shown in another site's iframe."""
    directives = {name: list(sources) for name, sources in settings.SECURE_CSP.items()}
    directives["frame-ancestors"] = list(settings.STATUS_EMBED_FRAME_ANCESTORS)
    return "; ".join(" ".join((name, *sources)) for name, sources in directives.items())


@login_not_required
@xframe_options_exempt
@require_safe
def embed(request):
    """/status/embed/: the current public incident banner (or "All systems operational") for an iframe."""
    response = _cached_document(request, "embed.html", public_render.render_embed, "text/html; charset=utf-8")
    response[csp.HEADER] = embed_policy()
    return response


# --- Subscriptions (double opt-in) ----------------------------------------------------------------


def _too_many_requests(request, form, wait: int, reason: str) -> HttpResponse:
    """429 with the form again and when to try: nothing was stored and no email sent."""
    refusal = f"{reason} Nothing was sent this time; please try again {ratelimit.describe_wait(wait)}."
    response = _page(request, "status/subscribe.html", status=429, form=form, refusal=refusal)
    response["Retry-After"] = str(wait)
    return response


@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
def subscribe(request):
    """GET: the email subscription form, on its own page (the status page only links here, so that it stays the
    same bytes for every visitor). POST: subscribe."""
    if request.method != "POST":
        return _page(request, "status/subscribe.html", form=public_render.SubscribeForm())
    # Each request may cost an email: counted per client first, then (once the address is known) per address.
    wait = subscriptions.client_wait(request)
    if wait:
        form = public_render.SubscribeForm(initial={"email": request.POST.get("email", "")[:254]})
        return _too_many_requests(request, form, wait, "Too many subscription requests have come from your network.")
    form = public_render.SubscribeForm(request.POST)
    if not form.is_valid():
        return _page(request, "status/subscribe.html", status=400, form=form)
    wait = subscriptions.address_wait(form.cleaned_data["email"])
    if wait:
        return _too_many_requests(
            request,
            form,
            wait,
            "Confirmation emails for this address have been asked for too often. If you asked for one, use the link "
            "in the most recent email (check the spam folder too).",
        )
    subscriptions.subscribe(form.cleaned_data["email"], form.cleaned_data["components"],
                            groups=form.cleaned_data["groups"])
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
    """GET only shows a button: mail scanners fetch links, so only the visitor's POST confirms. A link confirms
    once; neither page names the address (whoever holds the link learns nothing about whom it was sent to)."""
    if request.method == "POST":
        found = subscriptions.confirm(token)
    else:
        found = subscriptions.pending(token)
    if not found:
        return _not_found(
            request,
            "This confirmation link is not valid",
            "Each link works once: it may have been used already, or replaced by a newer one. If you still want "
            "updates, use the link in the most recent email, or subscribe again.",
        )
    if request.method == "POST":
        return _page(
            request,
            "status/notice.html",
            title="Subscription confirmed",
            text=f"This address will now receive {settings.STATUS_PAGE_NAME} status updates by email. Every email "
            "has a link to unsubscribe.",
        )
    return _page(request, "status/confirm.html")


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
