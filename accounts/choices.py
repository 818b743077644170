from django.db import models

from core.statemachine import StateMachine


class Tier(models.TextChoices):
    STRATEGIC = "strategic", "Strategic"
    ENTERPRISE = "enterprise", "Enterprise"
    GROWTH = "growth", "Growth"
    SELF_SERVE = "self_serve", "Self-serve"


KEY_TIERS = (Tier.STRATEGIC, Tier.ENTERPRISE)  # a mention from one of these is flagged "key customer account"


class ImpactLevel(models.TextChoices):
    MINOR = "minor", "Minor"
    MAJOR = "major", "Major"
    CRITICAL = "critical", "Critical"


class ImpactSource(models.TextChoices):
    MANUAL = "manual", "Entered by hand"
    API = "api", "Sent through the API"
    COMPONENTS = "components", "Derived from components the account uses"
    ESCALATION = "escalation", "Escalated from a mention"


class ImpactState(models.TextChoices):
    IDENTIFIED = "identified", "Identified"
    CONTACTED = "contacted", "Contacted"
    FOLLOW_UP = "follow_up", "Follow-up"
    COMPENSATION = "compensation", "Compensation"
    CLOSED = "closed", "Closed"


OPEN_IMPACT_STATES = (ImpactState.IDENTIFIED, ImpactState.CONTACTED, ImpactState.FOLLOW_UP, ImpactState.COMPENSATION)
IMPACT_MACHINE = StateMachine(
    "impact",
    {
        ImpactState.IDENTIFIED: {ImpactState.CONTACTED},
        ImpactState.CONTACTED: {ImpactState.FOLLOW_UP, ImpactState.COMPENSATION, ImpactState.CLOSED},
        ImpactState.FOLLOW_UP: {ImpactState.CONTACTED, ImpactState.COMPENSATION, ImpactState.CLOSED},
        ImpactState.COMPENSATION: {ImpactState.FOLLOW_UP, ImpactState.CLOSED},
        ImpactState.CLOSED: {
            ImpactState.CONTACTED,
            ImpactState.FOLLOW_UP,
            ImpactState.COMPENSATION,
        },  # reopen, with a reason
    },
    dict(ImpactState.choices),
)


class FollowUpKind(models.TextChoices):
    CALL = "call", "Call"
    EMAIL = "email", "Email"
    MEETING = "meeting", "Meeting"
    NOTE = "note", "Note"


class CompensationKind(models.TextChoices):
    SERVICE_CREDIT = "service_credit", "Service credit"
    DISCOUNT = "discount", "Discount"
    GIFT = "gift", "Gift"
    OTHER = "other", "Other"


class CompensationState(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    APPROVED = "approved", "Approved"
    OFFERED = "offered", "Offered"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    APPLIED = "applied", "Applied"
    WITHDRAWN = "withdrawn", "Withdrawn"


OPEN_COMPENSATION_STATES = (
    CompensationState.PROPOSED,
    CompensationState.APPROVED,
    CompensationState.OFFERED,
)  # an impact with one of these cannot close
COUNTED_COMPENSATION_STATES = (
    CompensationState.PROPOSED,
    CompensationState.APPROVED,
    CompensationState.OFFERED,
    CompensationState.ACCEPTED,
    CompensationState.APPLIED,
)  # added up against the approval limit: all but declined and withdrawn
COMPENSATION_MACHINE = StateMachine(
    "compensation",
    {
        CompensationState.PROPOSED: {CompensationState.APPROVED, CompensationState.WITHDRAWN},
        CompensationState.APPROVED: {CompensationState.OFFERED, CompensationState.WITHDRAWN},
        CompensationState.OFFERED: {
            CompensationState.ACCEPTED,
            CompensationState.DECLINED,
            CompensationState.WITHDRAWN,
        },
        CompensationState.ACCEPTED: {CompensationState.APPLIED},
        CompensationState.DECLINED: set(),
        CompensationState.APPLIED: set(),
        CompensationState.WITHDRAWN: set(),
    },
    dict(CompensationState.choices),
)


class AccountEventKind(models.TextChoices):
    IMPACT = "impact", "Impact"
    FOLLOW_UP = "follow_up", "Follow-up"
    COMPENSATION = "compensation", "Compensation"
    MESSAGE = "message", "Message"
    MENTION = "mention", "Mention"
    REMINDER = "reminder", "Reminder"
    EDITED = "edited", "Edited"
