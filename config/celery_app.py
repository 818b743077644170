"""The Celery application. Configuration lives in config.settings under the CELERY_ prefix."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("ears")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def in_worker(task) -> bool:
    """A task run by a worker, not eagerly inside its caller (and its caller's transaction)."""
    return task is not None and not getattr(task.request, "is_eager", False)


@task_prerun.connect
@task_postrun.connect
def close_old_connections(task=None, **kwargs):
    """Between tasks, what Django does between requests: drop a connection past CONN_MAX_AGE, and check that
    the one kept still works (CONN_HEALTH_CHECKS) before the next task uses it. Not for eager tasks, which run
    inside their caller's transaction."""
    if in_worker(task):
        from django.db import close_old_connections as close

        close()


@task_postrun.connect
def end_session_state(task=None, **kwargs):
    """What a task may leave in the session the next task reuses, undone: a session-level advisory lock (a claim
    of deliveries whose task was stopped, by its soft time limit, between taking the lock and its `finally`) and
    `synchronous_commit`, which the delivery recorder turns off. Before connections were reused the session
    ended with the task and took both with it."""
    from django.db import connection

    if not in_worker(task) or connection.vendor != "postgresql" or connection.connection is None:
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock_all()")
            cursor.execute("RESET synchronous_commit")
    except Exception:  # a broken session: closing it ends its locks too
        connection.close()
