"""What email providers tell us after sending: hard bounces and complaints suppress an address, soft bounces count.

The provider (EMAIL_PROVIDER, django-anymail) posts its tracking events to /email/events/<provider>/, which runs
anymail's own webhook view for that provider: it checks the shared secret (ANYMAIL_WEBHOOK_SECRET, HTTP basic
auth) and the provider's signature where it has one (Mailgun, SendGrid's signed webhook, …), and turns the payload
into normalised events; `record_tracking_event` (connected to anymail's `tracking` signal in CommsConfig.ready) acts
on them:

- bounced (a hard bounce), complained (marked as spam), rejected (the provider would not send to it), unsubscribed
  (at the provider) → the address goes on the suppression list (core.suppression), which every sender honours, and
  a status page subscriber with it is no longer confirmed: coming back takes a new opt-in, whose confirmation lifts
  the suppression;
- deferred (a soft bounce: the mailbox is full, the server busy) → the subscriber's soft bounce count goes up;
- everything else (delivered, opened, …) is ignored.
"""

import logging

from anymail.exceptions import AnymailConfigurationError, AnymailError, AnymailWebhookValidationFailure
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ImproperlyConfigured
from django.db.models import F
from django.http import Http404, JsonResponse
from django.utils.module_loading import import_string
from django.views.decorators.csrf import csrf_exempt

from comms.models import Subscriber
from core.models import Suppression
from core.suppression import suppress

log = logging.getLogger(__name__)

TRACKING_VIEWS = {
    "amazon_ses": "anymail.webhooks.amazon_ses.AmazonSESTrackingWebhookView",
    "brevo": "anymail.webhooks.brevo.BrevoTrackingWebhookView",
    "mailersend": "anymail.webhooks.mailersend.MailerSendTrackingWebhookView",
    "mailgun": "anymail.webhooks.mailgun.MailgunTrackingWebhookView",
    "mailjet": "anymail.webhooks.mailjet.MailjetTrackingWebhookView",
    "mailtrap": "anymail.webhooks.mailtrap.MailtrapTrackingWebhookView",
    "mandrill": "anymail.webhooks.mandrill.MandrillCombinedWebhookView",
    "postal": "anymail.webhooks.postal.PostalTrackingWebhookView",
    "postmark": "anymail.webhooks.postmark.PostmarkTrackingWebhookView",
    "resend": "anymail.webhooks.resend.ResendTrackingWebhookView",
    "sendgrid": "anymail.webhooks.sendgrid.SendGridTrackingWebhookView",
    "sparkpost": "anymail.webhooks.sparkpost.SparkPostTrackingWebhookView",
    "unisender_go": "anymail.webhooks.unisender_go.UnisenderGoTrackingWebhookView",
}

# Bounces a provider reports as "bounced" that are temporary all the same (anymail keeps the provider's own word).
SOFT_BOUNCE_TYPES = {"postmark": {"SoftBounce", "VirusNotification"}}

SUPPRESSING = {
    "bounced": Suppression.Reason.HARD_BOUNCE,
    "complained": Suppression.Reason.COMPLAINT,
    "rejected": Suppression.Reason.REJECTED,
    "unsubscribed": Suppression.Reason.UNSUBSCRIBED,
}


@csrf_exempt  # authenticated by the shared secret and the provider's signature, not a session
@login_not_required
def tracking_webhook(request, provider: str):
    """The configured provider's tracking events; any other provider's URL is a 404 (nothing to authenticate)."""
    if provider != settings.EMAIL_PROVIDER or provider not in TRACKING_VIEWS:
        raise Http404("No email provider of that name is configured.")
    try:
        return import_string(TRACKING_VIEWS[provider]).as_view()(request)
    except AnymailWebhookValidationFailure:
        raise  # wrong secret or signature: Django's 400 for a suspicious request, logged as such
    except (AnymailError, AnymailConfigurationError, ValueError, KeyError, TypeError, AttributeError,
            RecursionError) as error:
        # A payload anymail could not read (not JSON, another webhook's shape): the provider is told, nothing stored.
        message = f"The {provider} event payload could not be read: {type(error).__name__}."
        return JsonResponse({"status": 400, "code": "invalid", "message": message}, status=400)


def check_tracking_settings() -> None:
    """At startup: the configured provider's webhook view must find its settings (a signing key, …), so that a
    missing one stops startup with its name instead of failing each event."""
    provider = settings.EMAIL_PROVIDER
    if provider not in TRACKING_VIEWS:
        return
    try:
        import_string(TRACKING_VIEWS[provider])()
    except AnymailConfigurationError as error:
        raise ImproperlyConfigured(f"EMAIL_PROVIDER={provider}: its tracking webhook needs a setting that is missing "
                                   f"(set it as ANYMAIL_<NAME>): {' '.join(str(error).split())}") from None


def record_tracking_event(sender, event, esp_name, **kwargs) -> None:
    address = (event.recipient or "").strip()
    if not address or len(address) > 254 or "\x00" in address or "@" not in address:
        return  # not an address a provider could have sent to: nothing to suppress
    provider = (esp_name or "").lower().replace(" ", "_")
    kind = event.event_type
    if kind == "bounced" and isinstance(event.esp_event, dict) and (
            event.esp_event.get("Type") in SOFT_BOUNCE_TYPES.get(provider, ())):
        kind = "deferred"
    reason = SUPPRESSING.get(kind)
    if reason is not None:
        detail = " ".join(str(event.description or event.mta_response or event.reject_reason or "").split())
        _, created = suppress(address, reason, source=provider, detail=detail)
        unconfirmed = Subscriber.objects.filter(email__iexact=address, confirmed_at__isnull=False).update(
            confirmed_at=None)
        if created or unconfirmed:
            log.info("suppressed %s: %s reported %s", address, provider, kind)
    elif kind == "deferred":
        Subscriber.objects.filter(email__iexact=address).update(soft_bounces=F("soft_bounces") + 1)
