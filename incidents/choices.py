"""Choices and the state machine of incidents and components."""

from django.db import models

from core.statemachine import StateMachine


class Severity(models.TextChoices):
    SEV1 = "SEV1", "SEV1 – critical"
    SEV2 = "SEV2", "SEV2 – major"
    SEV3 = "SEV3", "SEV3 – minor"
    SEV4 = "SEV4", "SEV4 – low"


class IncidentKind(models.TextChoices):
    SERVICE = "service", "Service"
    SECURITY = "security", "Security"


class IncidentStatus(models.TextChoices):
    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    MONITORING = "monitoring", "Monitoring"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"  # internal: follow-up done; the public still sees "resolved"


OPEN_STATUSES = (IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED, IncidentStatus.MONITORING)

INCIDENT_MACHINE = StateMachine(
    "incident",
    {
        IncidentStatus.INVESTIGATING: {IncidentStatus.IDENTIFIED, IncidentStatus.MONITORING, IncidentStatus.RESOLVED},
        IncidentStatus.IDENTIFIED: {IncidentStatus.INVESTIGATING, IncidentStatus.MONITORING, IncidentStatus.RESOLVED},
        IncidentStatus.MONITORING: {IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED, IncidentStatus.RESOLVED},
        # A resolved incident may reopen if the problem comes back, or close once follow-up is done.
        IncidentStatus.RESOLVED: {
            IncidentStatus.INVESTIGATING,
            IncidentStatus.IDENTIFIED,
            IncidentStatus.MONITORING,
            IncidentStatus.CLOSED,
        },
        IncidentStatus.CLOSED: set(),
    },
    dict(IncidentStatus.choices),
)


class ComponentTier(models.IntegerChoices):
    TIER0 = 0, "Tier 0 – revenue-critical"
    TIER1 = 1, "Tier 1 – business-critical"
    TIER2 = 2, "Tier 2 – other"


class ComponentStatus(models.TextChoices):
    OPERATIONAL = "operational", "Operational"
    DEGRADED_PERFORMANCE = "degraded_performance", "Degraded performance"
    PARTIAL_OUTAGE = "partial_outage", "Partial outage"
    MAJOR_OUTAGE = "major_outage", "Major outage"
    UNDER_MAINTENANCE = "under_maintenance", "Under maintenance"


class TimelineKind(models.TextChoices):
    CREATED = "created", "Created"
    STATUS = "status", "Status changed"
    SEVERITY = "severity", "Severity changed"
    COMPONENTS = "components", "Components changed"
    EDITED = "edited", "Details edited"
    NOTE = "note", "Note"
    MESSAGE = "message", "Message"
    DELIVERY = "delivery", "Delivery"
    CADENCE = "cadence", "Update overdue"
    ACCOUNT = "account", "Customer follow-up"
    PUBLIC = "public", "Shown on the status page"


# Statuspage's "impact" for each severity, used by the public v2 JSON.
SEVERITY_IMPACT = {"SEV1": "critical", "SEV2": "major", "SEV3": "minor", "SEV4": "none"}


class MaintenanceState(models.TextChoices):
    """A maintenance window's life, named as Statuspage names it (its v2 JSON shows these values)."""

    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    VERIFYING = "verifying", "Verifying"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


MAINTENANCE_MACHINE = StateMachine(
    "maintenance window",
    {
        MaintenanceState.SCHEDULED: {MaintenanceState.IN_PROGRESS, MaintenanceState.CANCELLED},
        # At its end a window completes, or waits in verifying when it asked for a check before completing.
        MaintenanceState.IN_PROGRESS: {MaintenanceState.VERIFYING, MaintenanceState.COMPLETED},
        MaintenanceState.VERIFYING: {MaintenanceState.COMPLETED},
        MaintenanceState.COMPLETED: set(),
        MaintenanceState.CANCELLED: set(),
    },
    dict(MaintenanceState.choices),
)


class MaintenanceApproval(models.TextChoices):
    """Whether a communications lead approved the window's text and times: nothing about it is public before."""

    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted for approval"
    APPROVED = "approved", "Approved"


MAINTENANCE_APPROVAL_MACHINE = StateMachine(
    "maintenance announcement",
    {
        MaintenanceApproval.DRAFT: {MaintenanceApproval.SUBMITTED},
        MaintenanceApproval.SUBMITTED: {MaintenanceApproval.APPROVED, MaintenanceApproval.DRAFT},  # → draft: rejected
        MaintenanceApproval.APPROVED: {MaintenanceApproval.SUBMITTED},  # edited or rescheduled after approval
    },
    dict(MaintenanceApproval.choices),
)


class MaintenanceEventKind(models.TextChoices):
    CREATED = "created", "Created"
    EDITED = "edited", "Edited"
    APPROVAL = "approval", "Approval"
    STATE = "state", "State changed"
    COMPONENTS = "components", "Component status"
    NOTICE = "notice", "Notice"
