import pytest

from core.models import WorkerHeartbeat
from core.tasks import record_worker_heartbeat
from tests.integration.conftest import wait_until

pytestmark = pytest.mark.integration


def test_a_real_worker_consumes_a_task_from_redis_and_writes_to_the_database(celery_worker_process, client):
    queue, hostname = celery_worker_process

    record_worker_heartbeat.apply_async(queue=queue)

    beat = wait_until(lambda: WorkerHeartbeat.objects.filter(hostname=hostname).first())
    assert beat is not None, "the worker did not record its heartbeat within 30 s"
    health = client.get("/healthz").json()
    assert health["checks"]["broker"]["ok"] is True
    assert health["worker"]["ok"] is True


def test_the_cache_is_redis_when_redis_url_is_set(redis_broker):
    import redis
    from django.core.cache import cache

    cache.set("integration-probe", "here", 30)
    client = redis.Redis.from_url(redis_broker)
    assert any(key.endswith(b"integration-probe") for key in client.scan_iter("ears:*integration-probe"))
