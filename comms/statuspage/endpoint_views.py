"""Public pages for webhook subscriptions (Slack, Teams, Discord, generic): subscribe, enter the code,
unsubscribe. Uncached (they differ per visitor and per link); no login."""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from comms.endpoints import slack_oauth, subscriptions
from comms.endpoints.forms import EndpointConfirmForm, EndpointSubscribeForm
from comms.models import SubscriberEndpoint
from comms.statuspage.views import _csrf_input
from core import csp, ratelimit


def _page(request, template: str, status: int = 200, **context) -> HttpResponse:
    context = {"page_name": settings.STATUS_PAGE_NAME, "csrf_input": _csrf_input(request), **context}
    return render(request, template, context, status=status)


def _notice(request, title: str, text: str, status: int = 200) -> HttpResponse:
    return _page(request, "status/notice.html", status=status, title=title, text=text)


def _subscribe_page(request, form, status: int = 200, **context) -> HttpResponse:
    """The form, with "Add to Slack" when it is configured. That button's POST is redirected to Slack's authorize
    page, and browsers hold the redirect to this page's CSP form-action: Slack's origin is allowed here."""
    add_to_slack = slack_oauth.configured()
    if add_to_slack:
        csp.allow(request, "form-action", slack_oauth.slack_origin())
    return _page(request, "status/endpoint_subscribe.html", status=status, form=form, add_to_slack=add_to_slack,
                 **context)


def _refused(request, form, status: int, refusal: str, wait: int | None = None) -> HttpResponse:
    response = _subscribe_page(request, form, status=status, refusal=refusal)
    if wait:
        response["Retry-After"] = str(wait)
    return response


@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
def subscribe(request):
    if request.method != "POST":
        return _subscribe_page(request, EndpointSubscribeForm())
    # Each request may cost a message to the URL: counted per client, then per URL; then the cap on waiting ones.
    wait = subscriptions.client_wait(request)
    if wait:
        form = EndpointSubscribeForm(initial={"kind": request.POST.get("kind", "")[:8]})
        return _refused(request, form, 429, "Too many subscription requests have come from your network. Nothing "
                        f"was sent this time; please try again {ratelimit.describe_wait(wait)}.", wait)
    form = EndpointSubscribeForm(request.POST)
    if not form.is_valid():
        return _subscribe_page(request, form, status=400)
    url = form.cleaned_data["url"]
    wait = subscriptions.target_wait(url)
    if wait:
        return _refused(request, form, 429, "Confirmation messages to this URL have been asked for too often. Use the "
                        "code in the most recent one, or try again "
                        f"{ratelimit.describe_wait(wait)}.", wait)
    if subscriptions.too_many_waiting() and not SubscriberEndpoint.objects.filter(url=url).exists():
        return _refused(request, form, 503, "Too many subscriptions are waiting for their confirmation code right "
                        "now, so new ones are paused. Nothing was sent; please try again in an hour or two.", 3600)
    endpoint = subscriptions.subscribe(form.cleaned_data["kind"], url, form.cleaned_data["components"],
                                       form.cleaned_data["groups"])
    if endpoint.is_confirmed:
        return _notice(request, "This webhook is already subscribed",
                       "It already receives status updates; nothing was sent. To change what it receives, use the "
                       "unsubscribe link in any update, then subscribe again.")
    return redirect("status-endpoint-confirm", token=endpoint.confirm_token)


@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request, token):
    """The page the visitor lands on after subscribing, and the confirmation link in the message: enter the code.
    GET never confirms (link scanners fetch links); the code in ?code= only fills the field."""
    endpoint = subscriptions.pending(token)
    if endpoint is None:
        return _notice(request, "This confirmation link is not valid",
                       "It may have been used already, replaced by a newer request, or expired (after "
                       f"{settings.ENDPOINT_CONFIRM_DAYS} days). Subscribe again if you still want updates.",
                       status=404)
    status, wait = 200, 0
    if request.method == "POST":
        form = EndpointConfirmForm(request.POST)
        wait = subscriptions.confirm_wait(token)
        if wait:
            form.is_valid()
            form.add_error(None, "Too many codes were tried with this link. Please try again "
                                 f"{ratelimit.describe_wait(wait)}.")
            status = 429
        elif form.is_valid() and subscriptions.confirm(token, form.cleaned_data["code"]):
            return _notice(request, "Subscription confirmed",
                           f"{endpoint.get_kind_display()} will now receive {settings.STATUS_PAGE_NAME} status "
                           "updates. Every update has a link to unsubscribe.")
        elif not form.errors:
            form.add_error("code", "That is not the code we sent. Use the code in the most recent message.")
            status = 400
        else:
            status = 400
    else:
        code = subscriptions.normal_code(request.GET.get("code", ""))
        form = EndpointConfirmForm(initial={"code": code} if code else None)
    response = _page(request, "status/endpoint_confirm.html", status=status, form=form, endpoint=endpoint,
                     token=token)
    if status == 429:
        response["Retry-After"] = str(wait)
    return response


# One click: the token in the URL is the proof (as the email unsubscribe link); GET only shows the button. No CSRF
# token, so that a webhook's owner can also POST to the link from a script.
@login_not_required
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token):
    if request.method == "POST":
        found = subscriptions.unsubscribe(token)
    else:
        found = SubscriberEndpoint.objects.filter(unsubscribe_token=token).exists()
    if not found:
        return _notice(request, "This unsubscribe link does not match any subscription",
                       "If it was unsubscribed already, there is nothing more to do: nothing more is posted "
                       "through this link.", status=404)
    if request.method == "POST":
        return _notice(request, "Unsubscribed",
                       f"Nothing more from the {settings.STATUS_PAGE_NAME} status page will be posted there.")
    return _page(request, "status/endpoint_unsubscribe.html", token=token)
