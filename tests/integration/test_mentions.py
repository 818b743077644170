"""Mentions ingested through the API are scored and flagged by a real worker on Redis and PostgreSQL."""

import pytest

from sentiment.models import Mention
from tests.integration.conftest import wait_until

pytestmark = pytest.mark.integration


def test_bulk_ingested_mentions_are_scored_by_a_worker_and_appear_flagged_in_the_queue(start_worker, api_as,
                                                                                     default_data):
    import redis
    from django.conf import settings
    from django.contrib.auth.models import Group

    from config.celery_app import app
    from tests.factories import UserFactory

    support = UserFactory(username="support-int")
    support.groups.add(Group.objects.get(name="Support"))
    # The worker listens on the queue this test run sends to (see private_broker), emptied of earlier tests' tasks.
    queue = app.conf.task_default_queue
    redis.Redis.from_url(settings.REDIS_URL).delete(queue)
    start_worker(queue=queue, env={"CELERY_QUEUE": queue})
    mentions = [
        {"external_id": "int-1", "text": "@acme your API is down again, I want a refund",
         "posted_at": "2026-11-23T10:00:00Z"},
        {"external_id": "int-2", "text": "Thanks acme, all good now", "posted_at": "2026-11-23T10:05:00Z"},
    ]
    response = api_as(support).post("/api/v1/mentions/bulk/", mentions, format="json")
    assert response.json()["created"] == 2
    done = wait_until(lambda: Mention.objects.filter(scored_at__isnull=False).count() == 2, timeout=30)

    assert done, "the worker did not score the mentions within 30 s"
    flagged = api_as(support).get("/api/v1/mentions/?flagged=true").json()["results"]
    assert [m["external_id"] for m in flagged] == ["int-1"]
    assert flagged[0]["label"] == "negative"
    assert any("refund" in reason for reason in flagged[0]["flag_reasons"])
