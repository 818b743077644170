"""Choices and the state machine of messages and deliveries."""

from django.db import models

from core.statemachine import StateMachine


class MessagePhase(models.TextChoices):
    INITIAL = "initial", "Initial acknowledgement"
    UPDATE = "update", "Update"
    RESOLUTION = "resolution", "Resolution"
    REVIEW = "review", "Post-incident review"


class Audience(models.TextChoices):
    PUBLIC = "public", "Public"
    AFFECTED_ACCOUNTS = "affected_accounts", "Affected accounts"
    INTERNAL = "internal", "Internal"


class MessageState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted for approval"
    APPROVED = "approved", "Approved"
    SCHEDULED = "scheduled", "Scheduled"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    PARTIALLY_FAILED = "partially_failed", "Partially failed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


EDITABLE_STATES = (MessageState.DRAFT, MessageState.SUBMITTED, MessageState.APPROVED, MessageState.SCHEDULED)
_DRAFT, _SUBMITTED, _APPROVED, _SCHEDULED = EDITABLE_STATES
MESSAGE_MACHINE = StateMachine(
    "message",
    {
        _DRAFT: {_SUBMITTED, _SCHEDULED, MessageState.CANCELLED},  # → scheduled: unchanged pre-approved template only
        _SUBMITTED: {_APPROVED, _SCHEDULED, _DRAFT, MessageState.CANCELLED},  # → draft: rejected
        _APPROVED: {_SCHEDULED, _SUBMITTED, MessageState.CANCELLED},  # → submitted: edited after approval
        _SCHEDULED: {MessageState.SENDING, _SUBMITTED, MessageState.CANCELLED},
        MessageState.SENDING: {MessageState.SENT, MessageState.PARTIALLY_FAILED, MessageState.FAILED},
        MessageState.PARTIALLY_FAILED: {MessageState.SENDING},  # failed deliveries retried
        MessageState.FAILED: {MessageState.SENDING},
        MessageState.SENT: set(),
        MessageState.CANCELLED: set(),
    },
    dict(MessageState.choices),
)


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"  # e.g. the subscriber unsubscribed before it went out
