from django.db import models


class WorkerHeartbeat(models.Model):
    """Written by a periodic task so that /healthz can tell whether workers and beat are alive."""

    hostname = models.CharField(max_length=255, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self):
        return f"{self.hostname} at {self.seen_at:%H:%M:%S}"
