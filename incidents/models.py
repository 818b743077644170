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
    Severity,
    TimelineKind,
)


class Component(models.Model):
    name = models.CharField(max_length=100, unique=True)
    description = BoundedTextField(max_length=2000, blank=True)
    tier = models.PositiveSmallIntegerField(choices=ComponentTier.choices, default=ComponentTier.TIER2)
    status = models.CharField(max_length=32, choices=ComponentStatus.choices, default=ComponentStatus.OPERATIONAL)
    display_order = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["display_order", "name"]

    def __str__(self):
        return self.name


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
