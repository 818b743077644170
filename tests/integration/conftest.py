"""Real services: a Celery worker process on the Redis broker, writing to the test database."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]


def database_url_for_subprocess() -> str:
    """The URL of the database this test run uses (pytest-django's test database), for a child process."""
    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        skip_or_fail("a worker process cannot share SQLite's in-memory test database; set DATABASE_URL to PostgreSQL")
    credentials = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def redis_broker():
    if not settings.REDIS_URL:
        skip_or_fail("REDIS_URL is not set, so there is no Redis broker to run a real worker on")
    return settings.REDIS_URL


@pytest.fixture
def start_worker(redis_broker, transactional_db, tmp_path):
    """start_worker(queues=..., beat=False, env={}) → (queue, hostname): a `celery worker` child process
    on the Redis broker and the test database. Every process is stopped after the test."""
    processes = []

    def start(queue: str | None = None, beat: bool = False, env: dict | None = None, concurrency: int = 1):
        queue = queue or f"test-{uuid.uuid4().hex[:8]}"
        hostname = f"{queue}-{len(processes)}@integration"
        child_env = {**os.environ, "DATABASE_URL": database_url_for_subprocess(), "REDIS_URL": redis_broker,
                     "VAR_DIR": str(tmp_path), **(env or {})}
        # The queue and the two named after it (config.settings routes deliveries and ingest there).
        queues = f"{queue},{queue}.deliveries,{queue}.ingest"
        command = [sys.executable, "-m", "celery", "--app", "config", "worker", "--queues", queues,
                   "--hostname", hostname, "--without-gossip", "--without-mingle", "--loglevel", "INFO"]
        command += ["--pool", "solo"] if concurrency == 1 else ["--concurrency", str(concurrency)]
        if beat:
            command += ["--beat", "--schedule", str(tmp_path / f"beat-{len(processes)}")]
        log = open(tmp_path / f"worker-{len(processes)}.log", "w+")
        process = subprocess.Popen(command, cwd=ROOT, env=child_env, stdout=log, stderr=subprocess.STDOUT)
        processes.append((process, log))
        return queue, hostname

    yield start
    for process, log in processes:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.seek(0)
        output = log.read()
        log.close()
        if "Traceback" in output:
            print(output)  # shown by pytest when the test fails


@pytest.fixture
def celery_worker_process(start_worker):
    return start_worker()


def wait_until(predicate, timeout=30.0, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    return predicate()
