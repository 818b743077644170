"""Customer messages first (config/settings.py, Procfile): each task goes to its queue, the queues are named after
CELERY_QUEUE, and `make run` starts a worker for the deliveries queue alone."""

import runpy
import shlex
from pathlib import Path

import pytest
from honcho.environ import parse_procfile

from config.celery_app import app

ROOT = Path(__file__).resolve().parent.parent

# Every task of the project and the queue it belongs to; a new task must be placed here (and in config/settings.py).
QUEUE_OF_TASK = {
    "comms.tasks.dispatch_due_messages": "deliveries",
    "comms.tasks.send_deliveries": "deliveries",
    "comms.tasks.sweep_deliveries": "deliveries",
    "comms.tasks.send_subscription_confirmation": "deliveries",
    "comms.tasks.send_endpoint_confirmation": "deliveries",
    "comms.tasks.run_maintenance_windows": "deliveries",  # its notices are customer messages
    "comms.statuspage.export.export_status_page": "deliveries",
    "comms.statuspage.export.export_status_page_if_stale": "deliveries",
    "sentiment.tasks.score_mentions": "ingest",
    "sentiment.tasks.score_stragglers": "ingest",
    "sentiment.tasks.poll_x_searches": "ingest",
    "sentiment.tasks.poll_mastodon_searches": "ingest",
    "sentiment.tasks.poll_bluesky_searches": "ingest",
    "sentiment.tasks.poll_facebook_comments": "ingest",
    "sentiment.tasks.poll_linkedin_comments": "ingest",
    "sentiment.tasks.check_negative_spikes": "default",
    "sentiment.tasks.escalate_overdue_mentions": "default",
    "sentiment.tasks.sample_spot_checks": "default",
    "comms.tasks.remind_overdue_updates": "default",
    "comms.tasks.prune_old_deliveries": "default",
    "accounts.tasks.remind_overdue_follow_ups": "default",
    "core.tasks.record_worker_heartbeat": "default",
}


def queue_name(kind: str, default: str) -> str:
    return default if kind == "default" else f"{default}.{kind}"


def routed_queue(name: str) -> str:
    """The queue Celery's router sends the task to, as `task.delay()` would."""
    return app.amqp.router.route({}, name, args=(), kwargs={}, task_type=app.tasks[name])["queue"].name


@pytest.fixture(scope="module", autouse=True)
def every_task_registered():
    app.loader.import_default_modules()  # what a worker does at start: every app's tasks module


def test_every_task_of_the_project_has_a_queue_chosen_for_it():
    ours = {name for name in app.tasks if not name.startswith("celery.")}
    assert ours == set(QUEUE_OF_TASK)


@pytest.mark.parametrize("task_name", QUEUE_OF_TASK)
def test_each_task_is_sent_to_its_queue(task_name):
    assert routed_queue(task_name) == queue_name(QUEUE_OF_TASK[task_name], app.conf.task_default_queue)


def test_the_queues_are_named_after_celery_queue(monkeypatch):
    monkeypatch.setenv("CELERY_QUEUE", "staging")
    settings = runpy.run_path(str(ROOT / "config" / "settings.py"))  # as a process started with CELERY_QUEUE=staging

    assert settings["CELERY_TASK_DEFAULT_QUEUE"] == "staging"
    assert {name: queue["alias"] for name, queue in settings["CELERY_TASK_QUEUES"].items()} == {
        "staging": "default", "staging.deliveries": "deliveries", "staging.ingest": "ingest"}


def test_a_process_that_renames_its_default_queue_sends_deliveries_and_ingest_along_with_it(monkeypatch):
    monkeypatch.setitem(app.conf, "task_default_queue", "ears-tests-renamed")

    assert routed_queue("comms.tasks.send_deliveries") == "ears-tests-renamed.deliveries"
    assert routed_queue("sentiment.tasks.score_mentions") == "ears-tests-renamed.ingest"
    assert routed_queue("core.tasks.record_worker_heartbeat") == "ears-tests-renamed"


def consumed_by(queues_option: str | None) -> set[str]:
    """The queues a `celery worker [--queues OPTION]` of this deployment consumes (Celery's own selection)."""
    queues = app.amqp.Queues(app.conf.task_queues)
    if queues_option:
        queues.select(queues_option.split(","))
    return set(queues.consume_from)


def procfile_workers() -> dict[str, str | None]:
    """Procfile entry → the --queues option of its `celery worker` (None: no option), read as honcho reads it."""
    workers = {}
    for name, command in parse_procfile((ROOT / "Procfile").read_text()).processes.items():
        words = shlex.split(command)
        if "worker" in words:
            workers[name] = words[words.index("--queues") + 1] if "--queues" in words else None
    return workers


def test_a_worker_started_without_queues_consumes_all_three(settings):
    default = settings.CELERY_TASK_DEFAULT_QUEUE

    assert consumed_by(None) == {default, f"{default}.deliveries", f"{default}.ingest"}


def test_make_run_starts_a_worker_for_the_deliveries_queue_alone_and_one_for_the_rest(settings):
    default = settings.CELERY_TASK_DEFAULT_QUEUE

    consumed = sorted(sorted(consumed_by(option)) for option in procfile_workers().values())

    assert consumed == [[default, f"{default}.ingest"], [f"{default}.deliveries"]]
