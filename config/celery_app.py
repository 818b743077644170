"""The Celery application. Configuration lives in config.settings under the CELERY_ prefix."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("ears")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def close_old_connections(task=None, **kwargs):
    """Between tasks, what Django does between requests: drop a connection past CONN_MAX_AGE, and check that
    the one kept still works (CONN_HEALTH_CHECKS) before the next task uses it. Not for eager tasks, which run
    inside their caller's transaction."""
    if task is not None and not getattr(task.request, "is_eager", False):
        from django.db import close_old_connections as close

        close()
