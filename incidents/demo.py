"""Demo components and incidents (core.demo)."""

from datetime import timedelta

from django.utils import timezone

from incidents import services
from incidents.choices import ComponentStatus, ComponentTier, IncidentKind, IncidentStatus, Severity
from incidents.models import Component, ComponentGroup, Incident

DEMO_COMPONENTS = [
    ("API", ComponentTier.TIER0, "Public REST API used by customers' integrations."),
    ("Payments", ComponentTier.TIER0, "Card and invoice payments."),
    ("Web dashboard", ComponentTier.TIER1, "The customer-facing web application."),
    ("Email delivery", ComponentTier.TIER1, "Transactional email sent on customers' behalf."),
    ("Webhooks", ComponentTier.TIER2, "Event notifications to customers' endpoints."),
    ("Mobile app", ComponentTier.TIER2, "iOS and Android apps."),
]

# title, severity, kind, components, minutes ago it started, statuses it went through after opening
DEMO_INCIDENTS = [
    ("Card payments failing for EU customers", Severity.SEV1, IncidentKind.SERVICE, ["Payments", "API"], 25, []),
    ("Delayed transactional email", Severity.SEV3, IncidentKind.SERVICE, ["Email delivery"], 190,
     [IncidentStatus.IDENTIFIED, IncidentStatus.MONITORING]),
    ("Elevated API error rates", Severity.SEV2, IncidentKind.SERVICE, ["API", "Webhooks"], 60 * 50,
     [IncidentStatus.IDENTIFIED, IncidentStatus.RESOLVED]),
    ("Suspicious sign-in attempts", Severity.SEV4, IncidentKind.SECURITY, ["Web dashboard"], 60 * 24 * 12,
     [IncidentStatus.RESOLVED, IncidentStatus.CLOSED]),
]


# group name → its components, shown together (collapsible) on the status page
DEMO_GROUPS = {"Core platform": ["API", "Payments", "Webhooks"], "Apps": ["Web dashboard", "Mobile app"]}


def demo_components(demo) -> str:
    for order, (name, tier, description) in enumerate(DEMO_COMPONENTS):
        component, _ = Component.objects.get_or_create(
            name=name, defaults={"tier": tier, "description": description, "display_order": order * 10}
        )
        demo.components[name] = component
    for position, (group_name, names) in enumerate(DEMO_GROUPS.items()):
        group, _ = ComponentGroup.objects.get_or_create(name=group_name, defaults={"position": position})
        Component.objects.filter(name__in=names, group__isnull=True).update(group=group)
    grouped = Component.objects.filter(group__isnull=False).count()
    return f"{len(demo.components)} components ({grouped} of them in {len(DEMO_GROUPS)} groups)"


def demo_incidents(demo) -> str:
    """The incidents not there yet; the SEV1 one first in demo.new_incidents, for the steps of other apps."""
    lead = demo.users["lead"]
    now = timezone.now()
    for title, severity, kind, names, minutes_ago, moves in DEMO_INCIDENTS:
        if Incident.objects.filter(title=title).exists():
            continue
        started = now - timedelta(minutes=minutes_ago)
        incident = services.create_incident(
            actor=lead,
            components=[demo.components[name] for name in names],
            title=title,
            severity=severity,
            kind=kind,
            started_at=started,
            detected_at=started + timedelta(minutes=4),
            commander=lead,
            impact_summary=f"Some customers are affected: {', '.join(names)}.",
        )
        if kind == IncidentKind.SERVICE and severity != Severity.SEV1:
            # The SEV1 becomes public with its acknowledgement (comms' demo); the security incident stays internal.
            services.show_on_status_page(incident, actor=lead)
        for status in moves:
            incident = services.change_status(incident, status, actor=lead)
        if incident.is_open:
            # Through the rule every lead follows: the internal SEV1's outage shows only once it is public.
            worst = ComponentStatus.MAJOR_OUTAGE if severity == Severity.SEV1 else ComponentStatus.PARTIAL_OUTAGE
            incident = services.set_affected_components_status(incident, worst, actor=lead)
        demo.new_incidents.append(incident)
    created = len(demo.new_incidents)
    return f"{created} new incident{'s' if created != 1 else ''}"


def worst_new_incident(demo):
    """The SEV1 incident this run created, if any: the other apps' demo data gathers around it."""
    return next((incident for incident in demo.new_incidents if incident.severity == Severity.SEV1), None)
