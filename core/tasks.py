"""The worker heartbeat: beat runs it every 30 s; /healthz reports how long ago it last ran."""

import socket

from celery import shared_task
from django.utils import timezone

from core.models import WorkerHeartbeat


@shared_task(bind=True, ignore_result=True)
def record_worker_heartbeat(self) -> None:
    """Run by beat every 30 s on whichever worker takes it; /healthz reports how long ago it last ran."""
    WorkerHeartbeat.objects.update_or_create(
        hostname=self.request.hostname or socket.gethostname(), defaults={"seen_at": timezone.now()}
    )
