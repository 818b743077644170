"""The short variants of `make resilience` (bench/resilience): the same scenarios, the same processes — a
private redis-server, real `celery worker` and `celery beat`, the SMTP sink, the fake X API — on the test
database, with 300 subscribers, batches of 20, a sink that takes 2 ms per message (so that a fault lands
part-way through), sweeps every second, a dead-claim grace of 2 s, lost messages re-enqueued after 4 s when the
queue is empty, and retries backing off from 1 s (production: 30 s, 10 s, 30 s and 5 s)."""

import pytest
from django.conf import settings

from bench.resilience.harness import Harness, HarnessUnavailable, PrivateRedis
from tests.conftest import skip_or_fail
from tests.integration.conftest import database_url_for_subprocess

SUBSCRIBERS = 300


@pytest.fixture
def harness(transactional_db, tmp_path):
    if not settings.REDIS_URL:
        skip_or_fail("REDIS_URL is not set, so there is no Redis to run real workers on")
    database_url = database_url_for_subprocess()
    try:
        redis = PrivateRedis(tmp_path).start()  # restarted by the broker test; nobody else uses it
    except HarnessUnavailable as error:
        skip_or_fail(str(error))
    harness = Harness(database_url, tmp_path, redis, concurrency=2, sweep_seconds=1, email_batch_size=20,
                      delivery_timings="DEAD_CLAIM_GRACE_SECONDS=2,IDLE_LOST_ENQUEUE_SECONDS=4,RETRY_BASE_SECONDS=1",
                      sink_delay=0.002)
    try:
        yield harness
    finally:
        harness.close(graceful=False)  # the counts are taken; kill -9 is quicker than a warm shutdown
        redis.stop()
        if harness.tracebacks():
            print(harness.tracebacks())  # shown by pytest when the test fails


@pytest.fixture
def incident(transactional_db):
    """SUBSCRIBERS confirmed subscribers and a SEV1 incident, seeded as bench/fanout.py seeds them."""
    from bench.fanout import seed

    return seed(SUBSCRIBERS).incident
