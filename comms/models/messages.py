import hashlib

from django.conf import settings
from django.db import models
from django.urls import reverse

from comms.choices import EDITABLE_STATES, Audience, MessagePhase, MessageState
from core.db import BoundedTextField
from incidents.models import Incident

EARS_PARTS = ("explain", "acknowledge", "resolve", "study")
PART_LIMIT = 10_000  # characters in each EARS part (docs/api.md, "Lengths")


class EarsContent(models.Model):
    """The four EARS parts and a headline, shared by templates and messages."""

    headline = models.CharField(max_length=140)
    explain = BoundedTextField(max_length=PART_LIMIT, blank=True,
                               help_text="Explain: what happened and what is being done, plainly.")
    acknowledge = BoundedTextField(max_length=PART_LIMIT, blank=True,
                                   help_text="Acknowledge: the customer's experience; apologise.")
    resolve = BoundedTextField(max_length=PART_LIMIT, blank=True,
                               help_text="Resolve: what is restored, and any compensation offered.")
    study = BoundedTextField(max_length=PART_LIMIT, blank=True,
                             help_text="Study: the cause, and what changes so it does not recur.")

    class Meta:
        abstract = True

    def parts(self) -> dict[str, str]:
        return {"headline": self.headline, **{part: getattr(self, part) for part in EARS_PARTS}}

    def content_digest(self) -> str:
        """What an approval covers: the text, and for a message also its phase, audience and kind."""
        fields = [*self.parts().values(), getattr(self, "phase", ""), getattr(self, "audience", ""),
                  str(getattr(self, "is_announcement", ""))]
        return hashlib.sha256("\x1f".join(fields).encode()).hexdigest()


class MessageTemplate(EarsContent):
    """A starting point per phase, with {placeholders}. Pre-approved: publishable unchanged without approval."""

    name = models.CharField(max_length=100, unique=True)
    phase = models.CharField(max_length=16, choices=MessagePhase.choices)
    pre_approved = models.BooleanField(
        default=False,
        help_text="A message made from this template and left unchanged may be published at once by a "
        "communications lead or support user, without a second approval.",
    )
    channels = models.JSONField(default=list, blank=True, help_text="Channels selected by default.")
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False,
        help_text="Who last saved it (empty for the defaults): an author of messages left as it made them, for the "
        "four-eyes rule.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["phase", "name"]

    def __str__(self):
        return self.name


class Message(EarsContent):
    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="messages")
    phase = models.CharField(max_length=16, choices=MessagePhase.choices, default=MessagePhase.UPDATE)
    audience = models.CharField(max_length=24, choices=Audience.choices, default=Audience.PUBLIC)
    channels = models.JSONField(default=list, help_text="Channel kinds: email, statuspage, x, webhook.")
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="messages",
        help_text="For the affected-accounts audience: only this account's contacts (a targeted message).",
    )
    is_announcement = models.BooleanField(
        default=False, help_text="Marketing or announcement content; held back during the quiet period."
    )
    state = models.CharField(max_length=20, choices=MessageState.choices, default=MessageState.DRAFT)
    scheduled_for = models.DateTimeField(null=True, blank=True, help_text="Send at this time; empty means on publish.")
    template = models.ForeignKey(MessageTemplate, null=True, blank=True, on_delete=models.SET_NULL)
    template_digest = models.CharField(max_length=64, blank=True, editable=False)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="messages_written")
    written_under_status = models.CharField(
        max_length=16, blank=True, editable=False,
        help_text="The incident's status when the text was last written; a later status change makes it stale.",
    )
    promised_next_update_at = models.DateTimeField(
        null=True, blank=True, editable=False,
        help_text="The next update customers were promised when it went out ({next_update}): the cadence's deadline.",
    )
    published_status = models.CharField(
        max_length=16, blank=True, editable=False,
        help_text="The incident's public status when this update appeared on the status page.",
    )
    published_components = models.JSONField(
        default=list, blank=True, editable=False,
        help_text="The incident's components and their statuses when this update appeared: [{id, name, status}].",
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="messages_approved"
    )
    rejection_reason = models.CharField(max_length=500, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    fanned_out_at = models.DateTimeField(
        null=True, blank=True, help_text="When every delivery row existed; only then can the message finish."
    )
    published_at = models.DateTimeField(null=True, blank=True, help_text="When it appeared on the status page.")
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("approve_message", "Can approve messages and publish approved ones"),
            ("publish_preapproved_message", "Can publish a message made unchanged from a pre-approved template"),
        ]
        indexes = [models.Index(fields=["state", "scheduled_for"])]

    def __str__(self):
        return f"{self.get_phase_display()}: {self.headline}"

    def get_absolute_url(self):
        return reverse("message-detail", args=[self.pk])

    @property
    def is_editable(self) -> bool:
        return self.state in EDITABLE_STATES

    @property
    def stale_since(self) -> str | None:
        """The incident's status the text was written under, when the incident has moved on since (and the message
        has not gone out): its text may no longer hold. None when it is not stale."""
        if not self.is_editable or not self.written_under_status:
            return None
        return self.written_under_status if self.written_under_status != self.incident.status else None

    @property
    def is_unchanged_preapproved(self) -> bool:
        """Made from a pre-approved template and not edited since — text, phase, audience and kind as made, on
        no channel the template does not name: publishable without a second approval."""
        return bool(
            self.template_id
            and self.template.pre_approved
            and self.template_digest
            and self.template_digest == self.content_digest()
            and set(self.channels) <= set(self.template.channels)
        )
