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
