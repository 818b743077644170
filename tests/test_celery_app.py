"""How workers treat the database connection between tasks (config.celery_app, CELERY_DB_REUSE_MAX)."""

import time
from types import SimpleNamespace
from unittest import mock

import pytest
from celery.fixups.django import DjangoWorkerFixup
from django.db import connection

from config.celery_app import app, close_old_connections, end_session_state
from tests.conftest import skip_or_fail


class Task:
    """What the handler reads of a Celery task: its request."""

    def __init__(self, is_eager: bool):
        self.request = SimpleNamespace(is_eager=is_eager)



def test_celery_does_not_close_the_database_connection_after_every_task():
    fixup = DjangoWorkerFixup(app)
    with mock.patch.object(fixup, "_close_database") as close:
        for _ in range(100):  # before and after each of 50 tasks
            fixup.close_database()
    assert close.call_count == 0


@pytest.mark.django_db(transaction=True)
def test_between_tasks_a_connection_older_than_conn_max_age_is_closed():
    connection.ensure_connection()
    with mock.patch.object(connection, "close", wraps=connection.close) as close:
        connection.close_at = time.monotonic() + 60  # within CONN_MAX_AGE, and usable: kept for the next task
        close_old_connections(task=Task(is_eager=False))
        assert close.call_count == 0

        connection.close_at = time.monotonic() - 1  # CONN_MAX_AGE has passed
        close_old_connections(task=Task(is_eager=False))
        assert close.call_count == 1


@pytest.mark.django_db(transaction=True)
def test_an_eager_task_leaves_its_callers_connection_alone():
    connection.ensure_connection()
    connection.close_at = time.monotonic() - 1
    with mock.patch.object(connection, "close") as close:
        close_old_connections(task=Task(is_eager=True))
    assert close.call_count == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("signal", ["task_prerun", "task_postrun"])
def test_the_check_runs_before_and_after_every_task(signal):
    from celery import signals

    worker_task = Task(is_eager=False)
    connection.ensure_connection()
    connection.close_at = time.monotonic() - 1
    with mock.patch.object(connection, "close") as close:
        getattr(signals, signal).send(sender=worker_task, task_id="t-1", task=worker_task, args=(), kwargs={})
    assert close.call_count == 1


@pytest.mark.django_db(transaction=True)
def test_a_task_leaves_no_advisory_lock_or_session_setting_to_the_next_one():
    if connection.vendor != "postgresql":
        skip_or_fail("advisory locks and synchronous_commit are PostgreSQL's; set DATABASE_URL to PostgreSQL")
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        default = cursor.fetchone()[0]
        cursor.execute("SELECT pg_advisory_lock_shared(1163022675, 42)")  # as a claim whose task was stopped
        cursor.execute("SET synchronous_commit TO " + ("local" if default == "off" else "off"))

        end_session_state(task=Task(is_eager=False))

        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == default
