"""LinkedIn organization page: an approved public message becomes a post of the organization, through LinkedIn's
REST Posts API (POST /rest/posts, LinkedIn-Version LINKEDIN_API_VERSION), with requests through core.outbound's
guarded session.

The commentary is the whole message and the status page link, in LinkedIn's "little text" format (reserved
characters escaped, comms.rendering.linkedin_commentary). LinkedIn answers 201 with the post's URN in the
x-restli-id header; that URN is the delivery's external id. 429 (a member's or the application's daily limit) is
retried, after Retry-After when LinkedIn sends it; 401 (an expired or revoked token: member tokens last 60 days)
and 403 (a missing permission or role on the page) are permanent; so is 422 "Content is a duplicate".

A support reply to a comment (a delivery with in_reply_to "<post URN> <comment URN>", from the review queue) is a
comment of the organization under that comment: POST /rest/socialActions/{post URN}/comments with the post as
`object` and the comment as `parentComment` (Comments API). LinkedIn answers 201 with the new comment, whose URN is
the delivery's external id. As on Facebook there is no idempotency key: a retry after an answer that never arrived
may comment twice.
"""

import re
from contextlib import contextmanager
from urllib.parse import quote

import requests
from django.conf import settings

from comms.channels.base import Recipient, Refusal, Transport, TransportError, register
from comms.choices import Audience
from comms.rendering import linkedin_commentary, render_linkedin_post
from core.outbound import OutboundRefused, OutboundSession, check_url
from core.validators import whole_number

LINKEDIN_RECIPIENT = "linkedin"
NOT_CONFIGURED = "LinkedIn is not configured: set LINKEDIN_ORGANIZATION_ID and LINKEDIN_ACCESS_TOKEN."
MAX_WAIT_SECONDS = 24 * 3600
POST_URN = r"urn:li:(?:share|ugcPost|activity):\d{1,30}"
COMMENT_URN = re.compile(rf"urn:li:comment:\({POST_URN},\d{{1,30}}\)")
REPLY_TARGET = re.compile(rf"({POST_URN}) ({COMMENT_URN.pattern})")


def organization_urn() -> str:
    return f"urn:li:organization:{settings.LINKEDIN_ORGANIZATION_ID}"


def rest_headers() -> dict[str, str]:
    return {
        "Authorization": f"Bearer {settings.LINKEDIN_ACCESS_TOKEN}",
        "LinkedIn-Version": settings.LINKEDIN_API_VERSION,
        "X-Restli-Protocol-Version": "2.0.0",
    }


def rest_url(path: str) -> str:
    """An absolute REST API URL, refusing permanently one the outbound guard refuses."""
    try:
        check_url(settings.LINKEDIN_API_URL)
    except OutboundRefused as refusal:
        raise TransportError(f"EARS does not send to LINKEDIN_API_URL: {refusal}.", permanent=True) from None
    return f"{settings.LINKEDIN_API_URL}/rest/{path.lstrip('/')}"


def rest_request(http: requests.Session, method: str, path: str, *, doing: str, **kwargs) -> requests.Response:
    """One REST API call; the response when it succeeded (2xx), else TransportError saying whether to retry."""
    url = rest_url(path)
    try:
        response = http.request(method, url, headers=rest_headers(), **kwargs)
    except OutboundRefused as refusal:
        raise TransportError(f"EARS does not send to LINKEDIN_API_URL: {refusal}.", permanent=True) from None
    except requests.RequestException as error:
        raise TransportError(f"LinkedIn could not be reached: {error}", permanent=False, channel_down=True) from None
    if response.status_code < 300:
        return response
    raise rest_error(response, doing)


def rest_error(response: requests.Response, doing: str) -> TransportError:
    """LinkedIn's error answer ({"message", "status", "serviceErrorCode"}) as a TransportError."""
    try:
        detail = str(response.json().get("message") or "")[:300]
    except (ValueError, AttributeError):
        detail = ""
    detail = detail or response.reason or "no detail"
    status = response.status_code
    if status == 429:
        wait = whole_number((response.headers.get("Retry-After") or "").strip())
        return TransportError("LinkedIn rate limit reached (429)", permanent=False, refusal=Refusal.RATE_LIMIT,
                              retry_after=min(float(wait), MAX_WAIT_SECONDS) if wait is not None else None)
    if status == 401:
        return TransportError(f"LinkedIn refused the access token (401): {detail}. Check LINKEDIN_ACCESS_TOKEN "
                              "(member tokens expire after 60 days).", permanent=True, refusal=Refusal.TOKEN)
    if status == 403:
        return TransportError(f"LinkedIn refused the permission to {doing} (403): {detail}. The token needs "
                              "w_organization_social (r_organization_social to read comments) from an administrator "
                              "of the page.", permanent=True, refusal=Refusal.PERMISSION)
    if status == 422 and "duplicate" in detail.lower():
        return TransportError(f"LinkedIn refused a duplicate post (422): {detail}", permanent=True)
    if status >= 500:
        return TransportError(f"LinkedIn server error ({status})", permanent=False)
    return TransportError(f"LinkedIn refused to {doing} ({status}): {detail}", permanent=True)


def reply_to_comment(http: requests.Session, target: str, text: str) -> str:
    """Comment as the organization under a comment of a post; return the new comment's URN. target is
    "<post URN> <comment URN>" (sentiment.sources.linkedin keeps it on the mention)."""
    found = REPLY_TARGET.fullmatch(target)
    if found is None:
        raise TransportError(f"{target!r} is not a LinkedIn post URN and comment URN", permanent=True)
    post_urn, comment_urn = found.groups()
    response = rest_request(http, "POST", f"socialActions/{quote(post_urn, safe='')}/comments", doing="reply",
                            json={"actor": organization_urn(), "object": post_urn, "message": {"text": text},
                                  "parentComment": comment_urn})
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    answer = answer if isinstance(answer, dict) else {}
    urn = answer.get("commentUrn") or answer.get("$URN") or response.headers.get("x-restli-id", "").strip()
    if not urn or not isinstance(urn, str):  # it commented, but did not say as what: for a person to check
        raise TransportError(f"LinkedIn answered {response.status_code} without the comment's URN; check the post "
                             "before sending again", permanent=True)
    return urn


def post_body(text: str) -> dict:
    return {
        "author": organization_urn(),
        "commentary": linkedin_commentary(text),
        "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
    }


@register
class LinkedInTransport(Transport):
    kind = "linkedin"
    label = "LinkedIn page"
    audiences = frozenset({Audience.PUBLIC})

    def __init__(self):
        self.http = None

    def is_configured(self) -> bool:
        return settings.LINKEDIN_CONFIGURED

    def not_configured_reason(self) -> str:
        return "" if self.is_configured() else NOT_CONFIGURED

    def recipients(self, message):
        yield Recipient(address=LINKEDIN_RECIPIENT)

    @contextmanager
    def session(self):
        with OutboundSession() as http:
            self.http = http
            yield self

    def send(self, delivery) -> str:
        if not self.is_configured():
            raise TransportError(NOT_CONFIGURED, permanent=True)
        if delivery.in_reply_to:  # a support reply under a comment on the page's post, as the organization
            return reply_to_comment(self.http or OutboundSession(), delivery.in_reply_to, delivery.body)
        response = rest_request(self.http or OutboundSession(), "POST", "posts", doing="post",
                                json=post_body(render_linkedin_post(delivery.message)))
        urn = response.headers.get("x-restli-id", "").strip()
        if not urn:  # it posted, but did not say as what: recorded for a person rather than posted again
            raise TransportError(f"LinkedIn answered {response.status_code} without the post's URN "
                                 "(x-restli-id); check the page before sending again", permanent=True)
        return urn
