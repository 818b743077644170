"""Status page subscriptions with double opt-in: nothing is sent to an address until it is confirmed."""

import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from comms.models import Subscriber
from comms.models.delivery import new_token
from core import ratelimit
from core.suppression import lift
from incidents.models import Component

# --- One spelling per address ------------------------------------------------------------------------------

QUOTED_LOCAL_PART = "Write the address without quotation marks, as in name@example.com."


def _spelling(email: str) -> str:
    """NFKC (full-width letters and ＠ become plain ones), trimmed, lower case, no trailing dot on the domain."""
    local, at, domain = unicodedata.normalize("NFKC", email).strip().lower().rpartition("@")
    return f"{local}{at}{domain.rstrip('.')}"


def normalise_address(email: str) -> str:
    """The address as it is stored. A quoted local part ("reader"@example.com) is refused with a ValidationError:
    mail servers deliver it to reader@example.com, so it would be a second spelling of the same mailbox."""
    email = _spelling(email)
    if '"' in email.rpartition("@")[0]:
        raise ValidationError(QUOTED_LOCAL_PART, code="quoted_local_part")
    return email


# --- Rate limits: each subscription request may cost a confirmation email (OWASP API4) ------------------


def mailbox(email: str) -> str:
    """The mailbox an address reaches, for counting: one spelling (quotes around the local part dropped, the
    domain in its ASCII form) without a +tag, so that reader+1@ and "reader+2"@ (one inbox at most providers)
    share one count."""
    local, _, domain = _spelling(email).rpartition("@")
    local = local.strip('"').replace("\\", "")
    try:
        domain = domain.encode("idna").decode("ascii")  # bücher.example and xn--bcher-kva.example: one domain
    except UnicodeError:
        pass
    return f"{local.split('+')[0] or local}@{domain}"


def client_wait(request) -> int:
    """Count a subscription request from this client: 0 if within SUBSCRIBE_RATE_PER_IP, else seconds to wait."""
    client = ratelimit.network_key(ratelimit.client_ip(request))
    return ratelimit.hit("subscribe-client", client, settings.SUBSCRIBE_RATE_PER_IP)


def address_wait(email: str) -> int:
    """Count a subscription request for this address: 0 if within SUBSCRIBE_RATE_PER_ADDRESS, else seconds to
    wait. Counted whether the address is new, pending or confirmed, so the answer tells nothing about it."""
    return ratelimit.hit("subscribe-address", mailbox(email), settings.SUBSCRIBE_RATE_PER_ADDRESS)


# --- Subscribing, confirming, unsubscribing ---------------------------------------------------------------


def with_group_members(components=(), groups=()) -> list:
    """The components chosen, plus every component of each group chosen (a group stands for its components as
    they are now), each once, in display order."""
    chosen = {component.pk for component in components}
    group_ids = [group.pk for group in groups]
    if not group_ids:
        return list(components)
    return list(Component.objects.filter(pk__in=chosen) | Component.objects.filter(group__in=group_ids))


@transaction.atomic
def subscribe(email: str, components=(), groups=()) -> Subscriber:
    """Create (or refresh) an unconfirmed subscription and send the confirmation email after commit. Choosing a
    group subscribes to all of its components.

    An address that is already confirmed gets no new email and its choices are not changed, so a stranger
    cannot alter someone else's subscription; the answer to the visitor is the same either way.
    """
    components = with_group_members(components, groups)
    email = normalise_address(email)
    subscriber, created = Subscriber.objects.get_or_create(email=email)
    if subscriber.is_confirmed:
        return subscriber
    if not created:
        subscriber.confirm_token = new_token()
        subscriber.save(update_fields=["confirm_token"])
    subscriber.components.set(components)
    from comms.tasks import send_subscription_confirmation

    send_subscription_confirmation.delay_on_commit(subscriber.pk)
    return subscriber


def send_confirmation(subscriber_id: int) -> None:
    subscriber = Subscriber.objects.filter(pk=subscriber_id, confirmed_at__isnull=True).first()
    if subscriber is None:
        return
    context = {
        "confirm_url": settings.SITE_URL + reverse("status-confirm", args=[subscriber.confirm_token]),
        "page_name": settings.STATUS_PAGE_NAME,
    }
    subject = " ".join(render_to_string("comms/email/confirm-subject.txt", context).split())
    email = EmailMultiAlternatives(
        subject, render_to_string("comms/email/confirm-body.txt", context), settings.DEFAULT_FROM_EMAIL,
        [subscriber.email],
    )
    email.attach_alternative(render_to_string("comms/email/confirm-body.html", context), "text/html")
    email.send()


def pending(token: str) -> bool:
    """Whether this confirmation link still confirms something."""
    return Subscriber.objects.filter(confirm_token=token, confirmed_at__isnull=True).exists()


def confirm(token: str) -> bool:
    """Confirm the subscription this link was sent for; False if the link confirms nothing (any more).

    A link works once: confirming replaces its token with one no email holds, in the same conditional UPDATE,
    so a second visit (or a second press racing the first) finds nothing and confirms nothing again.
    """
    waiting = Subscriber.objects.filter(confirm_token=token, confirmed_at__isnull=True)
    email = waiting.values_list("email", flat=True).first()
    confirmed = waiting.update(confirmed_at=timezone.now(), confirm_token=new_token())
    if confirmed == 1:
        lift(email)  # a new opt-in by the address's owner ends an earlier bounce or complaint (core.suppression)
    return confirmed == 1


def unsubscribe(token: str) -> bool:
    deleted, _ = Subscriber.objects.filter(unsubscribe_token=token).delete()
    return bool(deleted)
