"""Add to Slack (comms.endpoints.slack_oauth): the subscribe form's button posts here and is sent on to Slack;
Slack sends the visitor back to the callback. Public, uncached, and a 404 unless SLACK_CLIENT_ID and
SLACK_CLIENT_SECRET are set. No page names the webhook URL; none shows the client secret."""

import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from comms.endpoints import slack_oauth, subscriptions
from comms.endpoints.forms import ComponentChoicesForm, EndpointSubscribeForm
from comms.statuspage.endpoint_views import _notice, _refused
from core import ratelimit

log = logging.getLogger(__name__)

START_AGAIN = "Nothing was subscribed. To add a Slack channel, start again from the subscribe page."


def _slack_form() -> EndpointSubscribeForm:
    return EndpointSubscribeForm(initial={"kind": "slack"})


@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
def add_to_slack(request):
    """POST (the form's "Add to Slack" button, with its components and groups): off to Slack's authorize page.
    Counted per client with the form's own subscriptions (SUBSCRIBE_RATE_PER_IP). GET: the form."""
    if not slack_oauth.configured():
        raise Http404("Add to Slack is not set up.")
    if request.method != "POST":
        return HttpResponseRedirect(reverse("status-endpoint-subscribe") + "#add-to-slack")
    wait = subscriptions.client_wait(request)
    if wait:
        return _refused(
            request,
            _slack_form(),
            429,
            "Too many subscription requests have come from your network. "
            f"Nothing was sent this time; please try again {ratelimit.describe_wait(wait)}.",
            wait,
        )
    choice = ComponentChoicesForm(request.POST)
    if not choice.is_valid():
        return _refused(
            request,
            _slack_form(),
            400,
            "Some of the components chosen are no longer on the status page. Choose again, then press Add to Slack.",
        )
    url, nonce = slack_oauth.start(choice.cleaned_data["components"], choice.cleaned_data["groups"])
    response = HttpResponseRedirect(url)
    response.set_cookie(
        slack_oauth.COOKIE,
        nonce,
        max_age=slack_oauth.STATE_SECONDS,
        path=slack_oauth.callback_path(),
        secure=request.is_secure() or settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",  # sent with the visitor's way back from Slack, a top-level GET from another site
    )
    return response


@login_not_required
@never_cache
@require_GET  # not HEAD either: answering it would spend the state and subscribe
def slack_callback(request):
    """Where Slack sends the visitor back: ?code=…&state=…, or ?error=access_denied&state=… if they said no."""
    if not slack_oauth.configured():
        raise Http404("Add to Slack is not set up.")
    response = _callback(request)
    response.delete_cookie(slack_oauth.COOKIE, path=slack_oauth.callback_path(), samesite="Lax")
    return response


def _callback(request) -> HttpResponse:
    error = request.GET.get("error", "")
    try:
        choice = slack_oauth.read_state(request.GET.get("state", ""), request.COOKIES.get(slack_oauth.COOKIE, ""))
    except slack_oauth.StateRefused as refusal:
        if error:  # nothing would have been subscribed anyway: say that, not what was wrong with the link
            return _not_added(request, error)
        return _notice(request, "This link from Slack cannot be used", f"{refusal} {START_AGAIN}", status=400)
    if error:
        return _not_added(request, error)
    code = request.GET.get("code", "")
    if not code:
        return _notice(
            request, "This link from Slack cannot be used", f"It carries no code from Slack. {START_AGAIN}", status=400
        )
    try:
        installation = slack_oauth.exchange(code[:200])
    except slack_oauth.SlackRefused as refusal:
        return _exchange_failed(request, refusal)
    where = f"{installation.channel or 'The channel'}{f' in {installation.team}' if installation.team else ''}"
    place = where if installation.channel or installation.team else ""
    endpoint, added = subscriptions.subscribe_confirmed("slack", installation.url, choice.components, choice.groups,
                                                        place=place)
    if not added:
        return _notice(
            request,
            "This Slack channel is already subscribed",
            f"{where} already receives status updates; nothing was changed or posted. To change what it "
            "receives, use the unsubscribe link in any update, then subscribe again.",
        )
    return _notice(
        request,
        "Slack channel subscribed",
        f"{where} will now receive status updates; a welcome message is on its way there. Every update "
        "has a link to unsubscribe the channel.",
    )


def _not_added(request, error: str) -> HttpResponse:
    if error == "access_denied":
        return _notice(
            request,
            "Nothing was subscribed",
            "Adding the app was cancelled at Slack, so no channel was subscribed and nothing will be "
            "posted. You can start again from the subscribe page at any time.",
        )
    log.info("Add to Slack: Slack's authorize page answered error=%r", error[:40])
    return _notice(
        request,
        "Nothing was subscribed",
        "Slack did not finish adding the app, so no channel was subscribed. Please start again from the "
        "subscribe page.",
        status=400,
    )


def _exchange_failed(request, refusal) -> HttpResponse:
    if refusal.visitor_can_retry:
        return _notice(
            request,
            "Slack did not accept this link",
            f"Its code from Slack has been used already or is too old. {START_AGAIN}",
            status=400,
        )
    if refusal.error == "unreachable":
        return _notice(
            request, "Slack could not be reached", f"Please try again in a few minutes. {START_AGAIN}", status=502
        )
    # The app's settings (client id, secret, redirect URL) or Slack's answer: for the operators, not the visitor.
    log.error("Add to Slack: the exchange at oauth.v2.access failed: %s", refusal.error)
    return _notice(
        request,
        "Slack did not complete the subscription",
        "Slack refused this status page's request, so no channel was subscribed. The reason is in the "
        "site's logs for its operators. Please try again later, or paste an incoming-webhook URL on the "
        "subscribe page instead.",
        status=502,
    )
