from django.db import models

from incidents.models import Maintenance


class MaintenanceNoticeKind(models.TextChoices):
    ADVANCE = "advance", "Advance notice"
    STARTED = "started", "Started"
    COMPLETED = "completed", "Completed"
    RESCHEDULED = "rescheduled", "Rescheduled"
    CANCELLED = "cancelled", "Cancelled"


class MaintenanceNotice(models.Model):
    """One notice about a maintenance window to the subscribers of its components (and the webhooks), planned by
    beat when it is due (comms.maintenance.notices). Its key is unique per window — kind, the offset of an advance
    notice, the window's schedule version — so each notice exists once, and its Delivery rows (one per channel and
    recipient) make it go out once per recipient. Its text is the window's approved text under a first line that
    says what happened and when (the line is written from the facts, not by a person)."""

    maintenance = models.ForeignKey(Maintenance, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=16, choices=MaintenanceNoticeKind.choices)
    key = models.CharField(max_length=64, help_text="e.g. advance:259200:v0, started, rescheduled:v1.")
    first_line = models.CharField(max_length=300)
    skipped = models.BooleanField(
        default=False, help_text="Never sent: a later notice of the same kind was due at the same time (an advance "
        "notice overtaken by a nearer one), so subscribers get only the latest.")
    created_at = models.DateTimeField(auto_now_add=True)
    fanned_out_at = models.DateTimeField(null=True, blank=True, help_text="When every delivery row existed.")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["maintenance", "key"], name="one_maintenance_notice_per_key")]

    def __str__(self):
        return f"{self.maintenance}: {self.first_line}"
