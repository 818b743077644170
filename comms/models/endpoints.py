"""Status page subscriptions that are URLs: a Slack or Discord webhook, a Microsoft Teams Workflows webhook, or a
signed generic webhook. Confirmed by a code sent to the URL itself (comms.endpoints.subscriptions); delivered by
the "subscriber_hooks" channel (comms.channels.subscriber_hooks)."""

import secrets

from django.db import models

from comms.models.delivery import new_token
from incidents.models import Component

# No 0/O, 1/I/L: a code read off a chat message and typed in again.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


class SubscriberEndpoint(models.Model):
    class Kind(models.TextChoices):
        SLACK = "slack", "Slack"
        TEAMS = "teams", "Microsoft Teams"
        DISCORD = "discord", "Discord"
        WEBHOOK = "webhook", "Webhook (signed JSON)"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    url = models.URLField(
        max_length=500, unique=True,
        help_text="The webhook URL. For Slack and Discord the URL is the credential: it is never shown in full.")
    secret = models.CharField(
        max_length=64, default=new_token, editable=False,
        help_text="Generic webhooks: the key of the X-EARS-Signature HMAC, sent in the verification message.")
    components = models.ManyToManyField(
        Component, blank=True, help_text="Only updates about these components; none means all.")
    confirm_code = models.CharField(max_length=16, default=new_code, editable=False)
    confirm_token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    unsubscribe_token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    requested_at = models.DateTimeField(
        help_text="When the subscription was last asked for: the code expires ENDPOINT_CONFIRM_DAYS after it.")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    test_sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When the message carrying the code was sent (claimed before sending).")
    test_error = models.CharField(max_length=300, blank=True,
                                  help_text="Why the message carrying the code could not be delivered.")
    consecutive_failures = models.PositiveIntegerField(
        default=0, help_text="Permanent failures in a row (a deleted webhook: 404, 410); a success resets it.")
    disabled_at = models.DateTimeField(
        null=True, blank=True,
        help_text="Set after SUBSCRIBER_ENDPOINT_MAX_FAILURES permanent failures in a row: nothing more is sent.")
    disabled_reason = models.CharField(max_length=300, blank=True)
    place = models.CharField(
        max_length=200, blank=True,
        help_text="Where it posts, as the service named it when it made the URL (Add to Slack: the channel and "
                  "workspace). Shown to leads beside the host; never on the status page.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["confirmed_at", "disabled_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk} ({self.host})"

    @property
    def host(self) -> str:
        """The URL's host only: what leads and logs see (the rest of a Slack or Discord URL is its secret)."""
        from urllib.parse import urlsplit

        return urlsplit(self.url).hostname or ""

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

    @property
    def recipient(self) -> str:
        """The Delivery.recipient of this endpoint: its kind and id, never its URL."""
        return f"{self.kind}-endpoint:{self.pk}"
