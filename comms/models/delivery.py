import secrets

from django.core.exceptions import ValidationError
from django.db import models

from comms.choices import DeliveryStatus
from comms.models.messages import Message
from core.db import BoundedTextField
from core.outbound import validate_outbound_url
from incidents.models import Component


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Subscriber(models.Model):
    """A status page email subscriber. Receives updates only once confirmed (double opt-in)."""

    email = models.EmailField(unique=True)
    components = models.ManyToManyField(
        Component, blank=True, help_text="Only updates about these components; none means all."
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirm_token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    unsubscribe_token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    soft_bounces = models.PositiveIntegerField(
        default=0, help_text="Temporary delivery failures the email provider reported (full mailbox, busy server).")

    class Meta:
        ordering = ["email"]

    def __str__(self):
        return self.email

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


class WebhookEndpoint(models.Model):
    """Where webhook deliveries go. The body is signed with HMAC-SHA256 using the secret."""

    class Format(models.TextChoices):
        JSON = "json", "EARS JSON"
        SLACK = "slack", "Slack-compatible"

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=128, default=new_token, help_text="Key of the X-EARS-Signature HMAC.")
    format = models.CharField(max_length=8, choices=Format.choices, default=Format.JSON)
    internal = models.BooleanField(
        default=False, help_text="Also receives internal messages and overdue-update reminders."
    )
    active = models.BooleanField(default=True)

    def __str__(self):
        return self.name

    def clean(self):
        """Refuse a URL the outbound guard would refuse anyway (http in production, a loopback, private or metadata
        address), while someone is there to read why; every send checks again (core.outbound)."""
        super().clean()
        if self.url:
            try:
                validate_outbound_url(self.url)
            except ValidationError as error:
                raise ValidationError({"url": error}) from None


class Delivery(models.Model):
    """One message (or one reply to a post, such as a customer's mention) to one recipient on one channel.

    Created before any network call, claimed before sending."""

    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries")
    notice = models.ForeignKey(
        "comms.MaintenanceNotice", null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries",
        help_text="A notice about a maintenance window, instead of a message.",
    )
    in_reply_to = models.CharField(
        max_length=200,
        blank=True,
        help_text="A reply to this post on the channel (its id there), instead of a message.",
    )
    body = BoundedTextField(max_length=5000, blank=True, help_text="The reply's text, for a reply.")
    channel = models.CharField(max_length=16)
    recipient = models.CharField(max_length=320, help_text="Email address, endpoint id, or the channel name.")
    subscriber = models.ForeignKey(Subscriber, null=True, blank=True, on_delete=models.SET_NULL)
    endpoint = models.ForeignKey(WebhookEndpoint, null=True, blank=True, on_delete=models.SET_NULL)
    code = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    status = models.CharField(max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    external_id = models.CharField(max_length=200, blank=True, help_text="e.g. the tweet id or SMTP message id.")
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["message", "channel", "recipient"], name="one_delivery_per_recipient"),
            models.UniqueConstraint(fields=["notice", "channel", "recipient"],
                                    name="one_notice_delivery_per_recipient"),
            models.CheckConstraint(
                condition=models.Q(message__isnull=False) | models.Q(notice__isnull=False) | ~models.Q(in_reply_to=""),
                name="delivery_of_a_message_a_notice_or_a_reply",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            # The rows still to send, per message: "is it done?" after every batch (comms.delivery.dispatch).
            models.Index(fields=["message"], condition=models.Q(status__in=["queued", "sending"]),
                         name="delivery_open_by_message"),
        ]
        verbose_name_plural = "deliveries"

    def __str__(self):
        return f"{self.channel} → {self.recipient}: {self.status}"


class DeliverySummary(models.Model):
    """How many deliveries of a message ended in each status on each channel, for the rows that retention removed
    (comms.retention). The message page adds these to the rows still stored."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="delivery_summaries")
    channel = models.CharField(max_length=16)
    status = models.CharField(max_length=8, choices=DeliveryStatus.choices)
    count = models.PositiveBigIntegerField(default=0)
    summarised_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "channel", "status"], name="one_summary_per_status")]
        verbose_name_plural = "delivery summaries"

    def __str__(self):
        return f"{self.message_id} {self.channel} {self.status}: {self.count}"
