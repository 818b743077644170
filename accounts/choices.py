from django.db import models

from comms.statemachine import StateMachine


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


S = ImpactState
OPEN_IMPACT_STATES = (S.IDENTIFIED, S.CONTACTED, S.FOLLOW_UP, S.COMPENSATION)
IMPACT_MACHINE = StateMachine(
    "impact",
    {
        S.IDENTIFIED: {S.CONTACTED},
        S.CONTACTED: {S.FOLLOW_UP, S.COMPENSATION, S.CLOSED},
        S.FOLLOW_UP: {S.CONTACTED, S.COMPENSATION, S.CLOSED},
        S.COMPENSATION: {S.FOLLOW_UP, S.CLOSED},
        S.CLOSED: {S.CONTACTED, S.FOLLOW_UP, S.COMPENSATION},  # reopen, with a reason
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


C = CompensationState
OPEN_COMPENSATION_STATES = (C.PROPOSED, C.APPROVED, C.OFFERED)  # an impact with one of these cannot close
COMPENSATION_MACHINE = StateMachine(
    "compensation",
    {
        C.PROPOSED: {C.APPROVED, C.WITHDRAWN},
        C.APPROVED: {C.OFFERED, C.WITHDRAWN},
        C.OFFERED: {C.ACCEPTED, C.DECLINED, C.WITHDRAWN},
        C.ACCEPTED: {C.APPLIED},
        C.DECLINED: set(),
        C.APPLIED: set(),
        C.WITHDRAWN: set(),
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
