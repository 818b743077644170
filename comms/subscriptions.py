"""Status page subscriptions with double opt-in: nothing is sent to an address until it is confirmed."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from comms.models import Subscriber
from comms.models.delivery import new_token
from core import ratelimit

# --- Rate limits: each subscription request may cost a confirmation email (OWASP API4) ------------------


def mailbox(email: str) -> str:
    """The mailbox an address reaches, for counting: lowercased and without a +tag, so that reader+1@ and
    reader+2@ (one inbox at most providers) share one count."""
    local, _, domain = email.strip().lower().rpartition("@")
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


@transaction.atomic
def subscribe(email: str, components=()) -> Subscriber:
    """Create (or refresh) an unconfirmed subscription and send the confirmation email after commit.

    An address that is already confirmed gets no new email and its choices are not changed, so a stranger
    cannot alter someone else's subscription; the answer to the visitor is the same either way.
    """
    email = email.strip().lower()
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


def confirm(token: str) -> Subscriber | None:
    subscriber = Subscriber.objects.filter(confirm_token=token).first()
    if subscriber and not subscriber.is_confirmed:
        subscriber.confirmed_at = timezone.now()
        subscriber.save(update_fields=["confirmed_at"])
    return subscriber


def unsubscribe(token: str) -> bool:
    deleted, _ = Subscriber.objects.filter(unsubscribe_token=token).delete()
    return bool(deleted)
