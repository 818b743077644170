from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from core.db import BoundedTextField
from incidents.choices import (
    OPEN_STATUSES,
    ComponentStatus,
    ComponentTier,
    IncidentKind,
    IncidentStatus,
    MaintenanceApproval,
    MaintenanceEventKind,
    MaintenanceState,
    Severity,
    TimelineKind,
)
from incidents.uptime import worst_status


class ComponentGroup(models.Model):
    """Components shown together on the status page (e.g. "EU region" → API, Payments, Dashboard). Its status is
    its components' worst, worked out, never stored."""

    name = models.CharField(max_length=100, unique=True)
    description = BoundedTextField(max_length=2000, blank=True)
    position = models.PositiveIntegerField(default=0, help_text="Lower numbers come first on the status page.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name

    def status_of(self, components) -> str:
        """The worst status of the given components (this group's, already fetched); operational when empty."""
        return worst_status(component.status for component in components)

    @property
    def status(self) -> str:
        return self.status_of(self.components.all())

    def get_status_display(self) -> str:
        return ComponentStatus(self.status).label


class Component(models.Model):
    name = models.CharField(max_length=100, unique=True)
    description = BoundedTextField(max_length=2000, blank=True)
    tier = models.PositiveSmallIntegerField(choices=ComponentTier.choices, default=ComponentTier.TIER2)
    status = models.CharField(max_length=32, choices=ComponentStatus.choices, default=ComponentStatus.OPERATIONAL)
    group = models.ForeignKey(
        ComponentGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="components",
        help_text="Shown inside this group on the status page; empty for a component on its own.",
    )
    display_order = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["display_order", "name"]

    def __str__(self):
        return self.name


class StatusChangeCause(models.TextChoices):
    INCIDENT = "incident", "Incident"
    DIRECT_EDIT = "direct_edit", "Direct edit"
    MAINTENANCE = "maintenance", "Maintenance"


class ComponentStatusChange(models.Model):
    """One change of a component's status, written by incidents.services.set_component_status (the only place a
    component's status changes). Append-only: the uptime history (incidents.uptime) is read from these rows."""

    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(
        max_length=32, choices=ComponentStatus.choices, blank=True,
        help_text="Empty when the status before is not known (history recorded from this change on).",
    )
    to_status = models.CharField(max_length=32, choices=ComponentStatus.choices)
    at = models.DateTimeField(default=timezone.now)
    cause = models.CharField(max_length=16, choices=StatusChangeCause.choices)
    incident = models.ForeignKey(
        "Incident", null=True, blank=True, on_delete=models.SET_NULL, related_name="component_status_changes",
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["component", "at"])]

    def __str__(self):
        return f"{self.component} {self.from_status or '?'} → {self.to_status} at {self.at:%Y-%m-%d %H:%M}"


class IncidentQuerySet(models.QuerySet):
    def public(self):
        """Incidents a lead made public (by publishing a public message, or showing it on the status page)."""
        return self.filter(public_since__isnull=False)

    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def not_open(self):
        return self.exclude(status__in=OPEN_STATUSES)


class Incident(models.Model):
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=IncidentKind.choices, default=IncidentKind.SERVICE)
    severity = models.CharField(max_length=4, choices=Severity.choices, default=Severity.SEV3)
    status = models.CharField(max_length=16, choices=IncidentStatus.choices, default=IncidentStatus.INVESTIGATING)
    components = models.ManyToManyField(Component, blank=True, related_name="incidents")
    impact_summary = BoundedTextField(max_length=5000, blank=True, help_text="Public: what customers experience.")
    internal_notes = BoundedTextField(max_length=20_000, blank=True, help_text="Internal only; never shown publicly.")
    commander = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="commanded_incidents"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now, help_text="When the disruption began.")
    detected_at = models.DateTimeField(null=True, blank=True, help_text="When we noticed it.")
    acknowledged_at = models.DateTimeField(null=True, blank=True, help_text="First public acknowledgement.")
    public_since = models.DateTimeField(
        null=True, blank=True, editable=False,
        help_text="When it first showed on the public status page; empty while it is internal. A new incident is "
        "internal until a lead publishes its first public message or shows it on the status page.",
    )
    pending_component_status = models.CharField(
        max_length=32, choices=ComponentStatus.choices, blank=True, default="",
        help_text="Set the affected components to this status when the incident is shown on the status page; "
        "empty when there is nothing waiting. An internal incident never changes what the public sees.",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Update cadence: when the next public update is due, and when leads were last reminded it is overdue.
    last_public_update_at = models.DateTimeField(null=True, blank=True)
    next_update_due_at = models.DateTimeField(null=True, blank=True)
    overdue_reminded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["status", "severity"]), models.Index(fields=["started_at"])]

    def __str__(self):
        return f"{self.severity} {self.title}"

    def get_absolute_url(self):
        return reverse("incident-detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_public(self) -> bool:
        return self.public_since is not None

    @property
    def public_status(self) -> str:
        """What the public sees: closing is internal, so a closed incident still reads as resolved."""
        return IncidentStatus.RESOLVED if self.status == IncidentStatus.CLOSED else self.status

    @property
    def public_status_label(self) -> str:
        return IncidentStatus(self.public_status).label

    @property
    def time_to_acknowledge(self):
        """From detection (or the start, if detection was not recorded) to the first public message."""
        if self.acknowledged_at is None:
            return None
        return self.acknowledged_at - (self.detected_at or self.started_at)

    @property
    def update_overdue(self) -> bool:
        return bool(self.is_open and self.next_update_due_at and self.next_update_due_at <= timezone.now())

    @property
    def age(self):
        return (self.resolved_at or timezone.now()) - self.started_at


class TimelineEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Timeline entries are append-only and cannot be updated.")


class TimelineEntry(models.Model):
    """One line of the incident log. Append-only: entries are never edited or deleted."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="timeline")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    kind = models.CharField(max_length=32, choices=TimelineKind.choices)
    description = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)

    objects = TimelineEntryQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        verbose_name_plural = "timeline entries"

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.description}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("Timeline entries are append-only and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Timeline entries are append-only and cannot be deleted.")


# --- Maintenance windows (incidents/maintenance.py changes them; comms/maintenance approves and announces them) ---

class MaintenanceQuerySet(models.QuerySet):
    def public(self):
        """Windows whose announcement a communications lead approved as they stand now: only these show anywhere
        public (status page, feeds, calendar, v2 JSON). Edited or rescheduled, a window waits for approval again
        and is hidden until then."""
        return self.filter(approval=MaintenanceApproval.APPROVED)

    def upcoming(self):
        return self.filter(state=MaintenanceState.SCHEDULED)

    def active(self):
        return self.filter(state__in=(MaintenanceState.IN_PROGRESS, MaintenanceState.VERIFYING))


class Maintenance(models.Model):
    """A planned maintenance window: EARS-style text (what, why, what customers will notice, what to do), the
    components it affects and when. Its state (scheduled → in progress → verifying → completed, or cancelled)
    moves by beat at its times (incidents.maintenance.move_due_windows) or by a lead; its approval
    (draft → submitted → approved) is a communications lead's, as for a message (comms.maintenance)."""

    title = models.CharField(max_length=200)
    what = BoundedTextField(max_length=5000, help_text="What: the work, plainly.")
    why = BoundedTextField(max_length=5000, blank=True, help_text="Why it is done.")
    customer_impact = BoundedTextField(max_length=5000, blank=True,
                                       help_text="What customers will notice while it lasts.")
    customer_action = BoundedTextField(max_length=5000, blank=True,
                                       help_text="What customers should do, if anything.")
    internal_notes = BoundedTextField(max_length=20_000, blank=True, help_text="Internal only; never shown publicly.")
    components = models.ManyToManyField(Component, blank=True, related_name="maintenances")
    scheduled_for = models.DateTimeField(help_text="When the work starts.")
    scheduled_until = models.DateTimeField(help_text="When the work is expected to end.")
    state = models.CharField(max_length=16, choices=MaintenanceState.choices, default=MaintenanceState.SCHEDULED)
    needs_verification = models.BooleanField(
        default=False, help_text="At its end, wait in verifying until a lead completes it (else it completes).")
    four_eyes = models.BooleanField(
        default=False, help_text="Another communications lead must approve it: not one who wrote or changed it.")
    approval = models.CharField(max_length=16, choices=MaintenanceApproval.choices,
                                default=MaintenanceApproval.DRAFT, editable=False)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", editable=False)
    rejection_reason = models.CharField(max_length=500, blank=True, editable=False)
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When it was first approved, and so first shown publicly.")
    schedule_version = models.PositiveIntegerField(
        default=0, editable=False, help_text="How many times it was rescheduled; each time its notices start over.")
    rescheduled_at = models.DateTimeField(null=True, blank=True, editable=False)
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    verifying_at = models.DateTimeField(null=True, blank=True, editable=False)
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)
    cancelled_at = models.DateTimeField(null=True, blank=True, editable=False)
    components_before = models.JSONField(
        default=dict, blank=True, editable=False,
        help_text="Each affected component's status when the window started ({id: status}), restored at its end.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MaintenanceQuerySet.as_manager()

    class Meta:
        ordering = ["scheduled_for", "id"]
        indexes = [models.Index(fields=["state", "scheduled_for"]), models.Index(fields=["state", "scheduled_until"])]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("maintenance-detail", args=[self.pk])

    @property
    def is_public(self) -> bool:
        return self.approval == MaintenanceApproval.APPROVED

    @property
    def is_editable(self) -> bool:
        return self.state == MaintenanceState.SCHEDULED

    def parts(self) -> dict[str, str]:
        """The public text, in the order it is shown."""
        return {"what": self.what, "why": self.why, "customer_impact": self.customer_impact,
                "customer_action": self.customer_action}


class MaintenanceEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Maintenance timeline entries are append-only and cannot be updated.")


class MaintenanceEvent(models.Model):
    """One line of a maintenance window's timeline (created, approved, started, components moved, notices).
    Append-only, like an incident's timeline."""

    maintenance = models.ForeignKey(Maintenance, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    kind = models.CharField(max_length=16, choices=MaintenanceEventKind.choices)
    description = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)

    objects = MaintenanceEventQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.description}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("Maintenance timeline entries are append-only and cannot be changed.")
        super().save(*args, **kwargs)
