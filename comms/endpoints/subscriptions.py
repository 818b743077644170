"""Subscribing a webhook URL from the status page, double opt-in: one message carrying a code goes to the URL, and
nothing else is sent there until the code comes back (typed into the status page, or through the confirmation link
in that message). Every message after that carries a one-click unsubscribe link.

Abuse limits as the email form's (comms.subscriptions): requests per client (SUBSCRIBE_RATE_PER_IP) and per target
URL (SUBSCRIBE_RATE_PER_ADDRESS), plus a cap on subscriptions waiting for their code, all visitors together
(UNCONFIRMED_ENDPOINTS_LIMIT). A request unconfirmed for ENDPOINT_CONFIRM_DAYS expires: its code stops working and
the row is deleted by the next subscription request.

"Add to Slack" (comms.endpoints.slack_oauth) skips the code: the workspace agreed at Slack, so subscribe_confirmed()
makes the subscription confirmed at once and the first message is a welcome with the unsubscribe link."""

import hmac
import logging
import re
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone

from comms.endpoints.generic import VERIFY_EVENT
from comms.endpoints.kinds import kind_of
from comms.endpoints.posting import EndpointError
from comms.models import SubscriberEndpoint
from comms.models.delivery import new_token
from comms.models.endpoints import CODE_LENGTH, new_code
from comms.subscriptions import with_group_members
from core import ratelimit
from core.outbound import OutboundSession

log = logging.getLogger(__name__)

CONFIRM_ATTEMPTS = (10, 3600)  # wrong codes per confirmation link: 10 an hour
WELCOME_EVENT = "subscription.welcome"


# --- Limits -----------------------------------------------------------------------------------------------

def client_wait(request) -> int:
    client = ratelimit.network_key(ratelimit.client_ip(request))
    return ratelimit.hit("endpoint-subscribe-client", client, settings.SUBSCRIBE_RATE_PER_IP)


def target_wait(url: str) -> int:
    """Counted per receiver whether it is new, pending or confirmed: each request may cost a message to it. The
    receiver is the URL without its query or fragment, its host in lower case and its path with "." and ".."
    resolved: "…/hook?1", "…/hook#2" and "…/./x/../hook" are one receiver, not three fresh counts."""
    return ratelimit.hit("endpoint-subscribe-target", receiver_key(url), settings.SUBSCRIBE_RATE_PER_ADDRESS)


def receiver_key(url: str) -> str:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    segments = []
    for segment in parts.path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment not in ("", "."):
            segments.append(segment)
    host = (parts.hostname or "").rstrip(".")
    return f"{parts.scheme.lower()}://{host}:{port or ''}/{'/'.join(segments)}"


def confirm_wait(token: str) -> int:
    return ratelimit.hit("endpoint-confirm", token, CONFIRM_ATTEMPTS)


def expiry_cutoff():
    return timezone.now() - timezone.timedelta(days=settings.ENDPOINT_CONFIRM_DAYS)


def waiting():
    """Subscriptions waiting for their code and not expired."""
    return SubscriberEndpoint.objects.filter(confirmed_at__isnull=True, requested_at__gte=expiry_cutoff())


def too_many_waiting() -> bool:
    return waiting().count() >= settings.UNCONFIRMED_ENDPOINTS_LIMIT


def forget_expired() -> int:
    deleted, _ = SubscriberEndpoint.objects.filter(confirmed_at__isnull=True, requested_at__lt=expiry_cutoff()).delete()
    return deleted


# --- Links ------------------------------------------------------------------------------------------------

def confirm_url(endpoint: SubscriberEndpoint, with_code: bool = False) -> str:
    url = settings.SITE_URL + reverse("status-endpoint-confirm", args=[endpoint.confirm_token])
    return f"{url}?code={endpoint.confirm_code}" if with_code else url


def unsubscribe_url(endpoint: SubscriberEndpoint) -> str:
    """Once per recipient of every update: the path is reversed once per URL configuration, not per endpoint."""
    return settings.SITE_URL + _unsubscribe_path(get_urlconf(), get_script_prefix()).replace(
        _TOKEN_MARK, endpoint.unsubscribe_token)


_TOKEN_MARK = "__TOKEN__"


@lru_cache(maxsize=8)
def _unsubscribe_path(urlconf, script_prefix) -> str:
    return reverse("status-endpoint-unsubscribe", args=[_TOKEN_MARK])


# --- Subscribing ------------------------------------------------------------------------------------------

@transaction.atomic
def subscribe(kind: str, url: str, components=(), groups=()) -> SubscriberEndpoint:
    """Create (or renew) an unconfirmed subscription and send the message carrying the code after commit.

    A URL that is already confirmed is left as it is (no message, choices unchanged): the caller says so. Renewing a
    pending one gives it a new code and link, so only the latest message's code works."""
    forget_expired()
    components = with_group_members(components, groups)
    now = timezone.now()
    endpoint = SubscriberEndpoint.objects.select_for_update().filter(url=url).first()
    if endpoint is not None and endpoint.is_confirmed:
        return endpoint
    if endpoint is None:
        try:
            with transaction.atomic():
                endpoint = SubscriberEndpoint.objects.create(kind=kind, url=url, requested_at=now)
        except IntegrityError:  # the same URL, subscribed at the same moment by another request
            return SubscriberEndpoint.objects.get(url=url)
    else:
        endpoint.kind, endpoint.requested_at = kind, now
        endpoint.confirm_code, endpoint.confirm_token = new_code(), new_token()
        endpoint.test_sent_at, endpoint.test_error = None, ""
        endpoint.save(update_fields=["kind", "requested_at", "confirm_code", "confirm_token", "test_sent_at",
                                     "test_error"])
    endpoint.components.set(components)
    from comms.tasks import send_endpoint_confirmation

    send_endpoint_confirmation.delay_on_commit(endpoint.pk)
    return endpoint


@transaction.atomic
def subscribe_confirmed(kind: str, url: str, components=(), groups=(), place: str = "") -> tuple[SubscriberEndpoint,
                                                                                                  bool]:
    """A subscription the channel's owner has already agreed to where the URL was made ("Add to Slack": the
    workspace consented at Slack, comms.endpoints.slack_oauth): confirmed at once, and a welcome message instead of a
    code posted after commit, by the same task and claim as the code. (endpoint, True) when this subscribed it.

    A URL already confirmed is left as it is, like subscribe() does: (endpoint, False), no message, choices
    unchanged. One waiting for its code (the same URL pasted into the form) is confirmed with these choices. place:
    where the URL posts, as the service said ("#status in Acme")."""
    forget_expired()
    components = with_group_members(components, groups)
    now = timezone.now()
    endpoint = SubscriberEndpoint.objects.select_for_update().filter(url=url).first()
    if endpoint is not None and endpoint.is_confirmed:
        return endpoint, False
    if endpoint is None:
        try:
            with transaction.atomic():
                endpoint = SubscriberEndpoint.objects.create(kind=kind, url=url, requested_at=now, confirmed_at=now,
                                                             place=place[:200])
        except IntegrityError:  # the same URL, subscribed at the same moment by another request
            return SubscriberEndpoint.objects.get(url=url), False
    else:
        endpoint.kind, endpoint.requested_at, endpoint.confirmed_at = kind, now, now
        endpoint.confirm_token = new_token()  # the code's link stops working, as after confirm()
        endpoint.test_sent_at, endpoint.test_error, endpoint.place = None, "", place[:200]
        endpoint.save(update_fields=["kind", "requested_at", "confirmed_at", "confirm_token", "test_sent_at",
                                     "test_error", "place"])
    endpoint.components.set(components)
    from comms.tasks import send_endpoint_confirmation

    send_endpoint_confirmation.delay_on_commit(endpoint.pk)
    return endpoint, True


def send_confirmation(endpoint_id: int) -> None:
    """Post the first message, once: the code to a subscription waiting for it, or the welcome to one confirmed
    where it was made (subscribe_confirmed). Claimed (test_sent_at) before the network call. A transient failure
    gives the claim back and raises, for the task to try again; a permanent one is kept in test_error, which the
    confirmation page shows."""
    now = timezone.now()
    claimed = SubscriberEndpoint.objects.filter(
        Q(confirmed_at__isnull=False) | Q(requested_at__gte=expiry_cutoff()), pk=endpoint_id,
        test_sent_at__isnull=True,
    ).update(test_sent_at=now, test_error="")
    if not claimed:
        return
    endpoint = SubscriberEndpoint.objects.get(pk=endpoint_id)
    kind = kind_of(endpoint)
    if endpoint.is_confirmed:
        payload, event = kind.welcome_payload(endpoint, unsubscribe_url(endpoint)), WELCOME_EVENT
        delivery_code = f"welcome-{endpoint.pk}"
    else:
        payload, event = kind.test_payload(endpoint, confirm_url(endpoint, with_code=True),
                                           unsubscribe_url(endpoint)), VERIFY_EVENT
        delivery_code = f"verify-{endpoint.pk}-{endpoint.confirm_token[:12]}"
    try:
        with OutboundSession() as session:
            kind.post(session, endpoint, payload, delivery_code, event)
    except EndpointError as error:
        mine = SubscriberEndpoint.objects.filter(pk=endpoint_id, test_sent_at=now)
        if error.permanent:
            mine.update(test_error=str(error)[:300])
            log.info("Confirmation message to %s failed: %s", kind.name(endpoint), error)
            return
        mine.update(test_sent_at=None, test_error=str(error)[:300])
        raise


# --- Confirming and unsubscribing -------------------------------------------------------------------------

def normal_code(text: str) -> str:
    """What was typed, as stored: upper case, without spaces or dashes (ABCD-EFGH, abcd efgh → ABCDEFGH)."""
    return re.sub(r"[\s-]", "", text or "").upper()[: CODE_LENGTH + 4]


def pending(token: str) -> SubscriberEndpoint | None:
    """The unconfirmed, unexpired subscription this confirmation link is for."""
    return waiting().filter(confirm_token=token).first()


def confirm(token: str, code: str) -> bool:
    """Confirm if the code is this link's; False otherwise. Works once (the link's token is replaced in the same
    conditional UPDATE)."""
    endpoint = pending(token)
    if endpoint is None or not hmac.compare_digest(normal_code(code).encode(), endpoint.confirm_code.encode()):
        return False
    return waiting().filter(pk=endpoint.pk, confirm_token=token, confirm_code=endpoint.confirm_code).update(
        confirmed_at=timezone.now(), confirm_token=new_token()) == 1


def unsubscribe(token: str) -> bool:
    deleted, _ = SubscriberEndpoint.objects.filter(unsubscribe_token=token).delete()
    return bool(deleted)


# --- Dead endpoints -----------------------------------------------------------------------------------------

def record_permanent_failure(endpoint_id: int, reason: str) -> bool:
    """Count one; disable the endpoint at SUBSCRIBER_ENDPOINT_MAX_FAILURES in a row. True if this disabled it."""
    SubscriberEndpoint.objects.filter(pk=endpoint_id).update(consecutive_failures=F("consecutive_failures") + 1)
    return SubscriberEndpoint.objects.filter(
        pk=endpoint_id, disabled_at__isnull=True,
        consecutive_failures__gte=settings.SUBSCRIBER_ENDPOINT_MAX_FAILURES,
    ).update(disabled_at=timezone.now(), disabled_reason=reason[:300]) == 1


def record_success(endpoint_id: int) -> None:
    SubscriberEndpoint.objects.filter(pk=endpoint_id, consecutive_failures__gt=0).update(consecutive_failures=0)


def enable(endpoint_id: int) -> bool:
    """A lead's decision to try a disabled endpoint again: its count starts from zero."""
    return SubscriberEndpoint.objects.filter(pk=endpoint_id, disabled_at__isnull=False).update(
        disabled_at=None, disabled_reason="", consecutive_failures=0) == 1
