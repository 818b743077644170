"""Which component an alert is about, and which severity it means (both tables are edited by admins)."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import models

from comms.models import AlertSeverityMapping, AlertSource
from incidents.choices import Severity
from incidents.models import Component

# Labels whose value is matched to a component's name (after the source's own mapping table), in this order.
COMPONENT_LABELS = ("component", "service")


class AlertStatus(models.TextChoices):
    FIRING = "firing", "Firing"
    RESOLVED = "resolved", "Resolved"


@dataclass
class IncomingAlert:
    """One alert of a payload, whatever its shape."""

    fingerprint: str
    firing: bool
    name: str
    summary: str = ""
    description: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    severity_label: str = ""
    component: int | str | None = None  # the generic shape names it directly (an id or a name)
    starts_at: datetime | None = None
    url: str = ""


def component_for(source: AlertSource, alert: IncomingAlert) -> Component | None:
    """The source's mapping table first (label=value → component), then the labels `component` and `service`
    matched to a component's name (without case); the generic shape's `component` is an id or a name."""
    if alert.component is not None:
        return _named(source, alert.component)
    labels = alert.labels
    for mapping in source.component_mappings.select_related("component"):
        if labels.get(mapping.label) == mapping.value:
            return mapping.component
    for label in COMPONENT_LABELS:
        if labels.get(label):
            found = Component.objects.filter(name__iexact=labels[label].strip()).first()
            if found is not None:
                return found
    return None


def _named(source: AlertSource, named: int | str) -> Component | None:
    if isinstance(named, int):
        return Component.objects.filter(pk=named).first()
    mapping = source.component_mappings.select_related("component").filter(label="component", value=named).first()
    if mapping is not None:
        return mapping.component
    found = Component.objects.filter(name__iexact=named.strip()).first()
    if found is None and named.strip().isdigit() and len(named.strip()) < 19:
        found = Component.objects.filter(pk=int(named.strip())).first()
    return found


def severity_for(source: AlertSource, label: str) -> str:
    """SEV1…SEV4 named directly (any case), else the severity mapping's entry, else the source's default."""
    value = (label or "").strip().lower()
    if not value:
        return source.default_severity
    if value.upper() in Severity.values:
        return value.upper()
    mapped = AlertSeverityMapping.objects.filter(value=value).values_list("severity", flat=True).first()
    return mapped or source.default_severity
