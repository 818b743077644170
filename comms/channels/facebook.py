"""Facebook page: an approved public message becomes a post on the configured page, through the Graph API
(POST /v21.0/{page-id}/feed with a page access token), with requests through core.outbound's guarded session.

The post carries the whole message and the status page link (sent as `link` too, so Facebook shows its card). A
support reply to a comment (a delivery with in_reply_to, from the review queue) is a comment under it, as the page
(POST /v21.0/{comment-id}/comments).
The Graph API has no idempotency key: a retry after an answer that never arrived may post again, and Facebook
then refuses the copy as a duplicate (506), which is recorded as a permanent failure for a person to check.

Errors (developers.facebook.com/docs/graph-api/guides/error-handling): codes 4, 17, 32, 613 and 80001-80014 are
rate limits, retried after the wait the usage headers give (X-Business-Use-Case-Usage's
estimated_time_to_regain_access, in minutes) or with the delivery's own backoff; 190 is a token that no longer
works and 10 / 200-299 a missing permission (both permanent, naming what to fix); 506 a duplicate (permanent);
5xx, codes 1 and 2 and `is_transient` answers are transient.
"""

import json
import re
from contextlib import contextmanager

import requests
from django.conf import settings

from comms.channels.base import Recipient, Refusal, Transport, TransportError, register
from comms.choices import Audience
from comms.rendering import render_facebook_post, status_page_url
from core.outbound import OutboundRefused, OutboundSession, check_url

GRAPH_API_VERSION = "v21.0"
FACEBOOK_RECIPIENT = "facebook"
NOT_CONFIGURED = "Facebook is not configured: set FACEBOOK_PAGE_ID and FACEBOOK_PAGE_TOKEN."
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, *range(80001, 80015)})
TRANSIENT_CODES = frozenset({1, 2})
PERMISSION_CODES = frozenset({10, *range(200, 300)})
TOKEN_CODE = 190
DUPLICATE_CODE = 506
MAX_WAIT_SECONDS = 24 * 3600
COMMENT_ID = re.compile(r"\d{1,30}(_\d{1,30})?")  # "<post>_<comment>", as the Graph API gives them


def graph_url(path: str) -> str:
    """An absolute Graph API URL for path (without the version), refusing permanently one the guard refuses."""
    try:
        check_url(settings.FACEBOOK_GRAPH_URL)
    except OutboundRefused as refusal:
        raise TransportError(f"EARS does not send to FACEBOOK_GRAPH_URL: {refusal}.", permanent=True) from None
    return f"{settings.FACEBOOK_GRAPH_URL}/{GRAPH_API_VERSION}/{path.lstrip('/')}"


def graph_request(http: requests.Session, method: str, path: str, *, doing: str, **kwargs) -> dict:
    """One Graph API call with the page token; its JSON answer, or TransportError saying whether to retry."""
    url = graph_url(path)
    headers = {"Authorization": f"Bearer {settings.FACEBOOK_PAGE_TOKEN}"}
    try:
        response = http.request(method, url, headers=headers, **kwargs)
    except OutboundRefused as refusal:
        raise TransportError(f"EARS does not send to FACEBOOK_GRAPH_URL: {refusal}.", permanent=True) from None
    except requests.RequestException as error:
        raise TransportError(f"Facebook could not be reached: {error}", permanent=False, channel_down=True) from None
    if response.status_code < 300:
        try:
            return response.json()
        except ValueError:
            if method == "GET":  # a read: nothing was changed, so it is tried again
                raise TransportError(f"Facebook's answer to {doing} could not be read (not JSON, or cut short)",
                                     permanent=False) from None
            # it may have posted: a person checks the page rather than a retry posting twice
            raise TransportError(f"Facebook answered {response.status_code} without JSON; check the page before "
                                 "sending again", permanent=True) from None
    raise graph_error(response, doing)


def graph_error(response: requests.Response, doing: str) -> TransportError:
    """The Graph API's error answer ({"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}) as a
    TransportError."""
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    code = error.get("code") if isinstance(error.get("code"), int) else None
    detail = str(error.get("message") or response.reason or "no detail")[:300]
    shown = f"code {code}" if code is not None else str(response.status_code)
    if code in RATE_LIMIT_CODES or response.status_code == 429:
        return TransportError(f"Facebook rate limit reached ({shown})", permanent=False, refusal=Refusal.RATE_LIMIT,
                              retry_after=usage_wait_seconds(response.headers))
    if code == TOKEN_CODE or response.status_code == 401:
        return TransportError(f"Facebook refused the page token ({shown}): {detail}. Check FACEBOOK_PAGE_TOKEN "
                              "(a page access token that has not expired).", permanent=True, refusal=Refusal.TOKEN)
    if code in PERMISSION_CODES:
        return TransportError(f"Facebook refused the permission to {doing} ({shown}): {detail}. The page token needs "
                              "pages_manage_posts (pages_manage_engagement to reply to comments, pages_read_engagement "
                              "to read them).", permanent=True, refusal=Refusal.PERMISSION)
    if code == DUPLICATE_CODE:
        return TransportError(f"Facebook refused a duplicate post ({shown}): {detail}", permanent=True)
    if response.status_code >= 500 or code in TRANSIENT_CODES or error.get("is_transient") is True:
        with_code = f", code {code}" if code is not None else ""
        return TransportError(f"Facebook server error ({response.status_code}{with_code})", permanent=False)
    return TransportError(f"Facebook refused to {doing} ({shown}): {detail}", permanent=True)


def usage_wait_seconds(headers) -> float | None:
    """How long Facebook says to wait: the longest estimated_time_to_regain_access (minutes) of the
    X-Business-Use-Case-Usage header (or X-Page-Usage / X-App-Usage when they carry one); None when none says."""
    waits = []
    for name in ("X-Business-Use-Case-Usage", "X-Page-Usage", "X-App-Usage"):
        try:
            usage = json.loads(headers.get(name) or "null")
        except ValueError:
            continue
        entries = [usage] if isinstance(usage, dict) and "call_count" in usage else (
            [entry for group in usage.values() if isinstance(group, list) for entry in group]
            if isinstance(usage, dict) else [])
        for entry in entries:
            minutes = entry.get("estimated_time_to_regain_access") if isinstance(entry, dict) else None
            if isinstance(minutes, int | float) and not isinstance(minutes, bool) and minutes > 0:
                waits.append(min(minutes * 60.0, MAX_WAIT_SECONDS))
    return max(waits) if waits else None


@register
class FacebookTransport(Transport):
    kind = "facebook"
    label = "Facebook page"
    audiences = frozenset({Audience.PUBLIC})

    def __init__(self):
        self.http = None

    def is_configured(self) -> bool:
        return settings.FACEBOOK_CONFIGURED

    def not_configured_reason(self) -> str:
        return "" if self.is_configured() else NOT_CONFIGURED

    def recipients(self, message):
        yield Recipient(address=FACEBOOK_RECIPIENT)

    @contextmanager
    def session(self):
        with OutboundSession() as http:
            self.http = http
            yield self

    def send(self, delivery) -> str:
        if not self.is_configured():
            raise TransportError(NOT_CONFIGURED, permanent=True)
        http = self.http or OutboundSession()
        if delivery.in_reply_to:  # a support reply to a comment on the page (its Graph id), as the page
            if not COMMENT_ID.fullmatch(delivery.in_reply_to):
                raise TransportError(f"{delivery.in_reply_to!r} is not a Facebook comment id", permanent=True)
            answer = graph_request(http, "POST", f"{delivery.in_reply_to}/comments", doing="reply",
                                   data={"message": delivery.body})
        else:
            data = {"message": render_facebook_post(delivery.message), "link": status_page_url()}
            answer = graph_request(http, "POST", f"{settings.FACEBOOK_PAGE_ID}/feed", doing="post", data=data)
        post_id = answer.get("id") if isinstance(answer, dict) else None
        if not post_id:
            raise TransportError("Facebook answered without the post's id; check the page before sending again",
                                 permanent=True)
        return str(post_id)
