from django.db import models

from comms.models.delivery import new_token
from incidents.models import Component


class SmsSubscriber(models.Model):
    """A status page subscriber by text message (comms.sms). Receives updates only once the code sent to the number
    was typed back on the status page, and never after replying STOP (until START)."""

    phone = models.CharField(max_length=16, unique=True, help_text="E.164, e.g. +447700900123.")
    components = models.ManyToManyField(
        Component, blank=True, related_name="sms_subscribers", help_text="Only updates about these; none means all."
    )
    confirmed_at = models.DateTimeField(null=True, blank=True, help_text="When the code was typed back.")
    opted_out_at = models.DateTimeField(null=True, blank=True, help_text="When the number replied STOP.")
    code_hash = models.CharField(max_length=64, blank=True, editable=False)
    code_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    code_attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    # The code page's address holds this, not the number: nothing on a public page names the number.
    verify_token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = "SMS subscriber"
        indexes = [models.Index(fields=["confirmed_at", "code_sent_at"], name="sms_subscriber_pending")]

    def __str__(self):
        return self.phone

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

    @property
    def receives_updates(self) -> bool:
        return self.confirmed_at is not None and self.opted_out_at is None
