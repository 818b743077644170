import zoneinfo
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models


class WorkerHeartbeat(models.Model):
    """Written by a periodic task so that /healthz can tell whether workers and beat are alive."""

    hostname = models.CharField(max_length=255, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self):
        return f"{self.hostname} at {self.seen_at:%H:%M:%S}"


@cache
def available_time_zones() -> frozenset[str]:
    """The IANA names this machine knows (zoneinfo reads the disk on every call, so once per process)."""
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value and value not in available_time_zones():
        raise ValidationError(
            "%(value)s is not a time zone: choose one such as Europe/Paris or America/New_York.",
            code="unknown_time_zone",
            params={"value": value},
        )


def zone_named(name: str) -> zoneinfo.ZoneInfo:
    """The zone of that name; the site's TIME_ZONE for a blank name or one this machine no longer knows."""
    if name and name in available_time_zones():
        return zoneinfo.ZoneInfo(name)
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


class Preferences(models.Model):
    """What one person chose for themselves. A blank time zone means the site's TIME_ZONE."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences")
    # Checked by a validator, not `choices`: the list of zones comes with the machine's tzdata, not the migration.
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text="An IANA name such as Europe/Paris; blank for the site's time zone (TIME_ZONE).",
    )

    class Meta:
        verbose_name_plural = "preferences"

    def __str__(self):
        return f"{self.user}: {self.time_zone or 'site time zone'}"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zone_named(self.time_zone)

    @classmethod
    def zone_of(cls, user) -> zoneinfo.ZoneInfo:
        """The zone a user sees and enters times in: one small query."""
        name = cls.objects.filter(user_id=user.pk).values_list("time_zone", flat=True).first()
        return zone_named(name or "")


class Suppression(models.Model):
    """An email address nothing is sent to any more: it bounced hard, its owner complained (marked an email as spam)
    or the provider refused it. Shared by every sender (core.suppression); lifted when its owner opts in again."""

    class Reason(models.TextChoices):
        HARD_BOUNCE = "bounced", "Hard bounce"
        COMPLAINT = "complained", "Spam complaint"
        REJECTED = "rejected", "Refused by the provider"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed at the provider"
        MANUAL = "manual", "Suppressed by a person"

    address = models.CharField(max_length=254, unique=True, help_text="Lower case.")
    reason = models.CharField(max_length=12, choices=Reason.choices)
    source = models.CharField(max_length=40, blank=True, help_text="The provider that reported it, or who did it.")
    detail = models.CharField(max_length=500, blank=True, help_text="What the provider said.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("lift_suppression", "Can lift an email suppression")]

    def __str__(self):
        return f"{self.address} ({self.get_reason_display()})"
