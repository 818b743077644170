"""What a Redis broker can tell: how many task messages wait in a queue, and whether it lost its data since a
mark was set (other brokers: nothing)."""

import logging
from dataclasses import dataclass

from django.utils import timezone

log = logging.getLogger(__name__)


@dataclass
class BrokerState:
    reset: bool = False  # the broker lost its data since the last look: every task message enqueued before is gone
    waiting: int | None = None  # task messages waiting in the queue (None: unknown)


def inspect_broker(mark_key: str, mark_ttl: int, queue: str | None = None) -> BrokerState:
    """What a caller (the delivery sweeper) can learn from a Redis broker (other brokers: nothing).

    reset: the caller keeps a mark in Redis (mark_key, with {queue} in it), next to the queue; the mark is gone
    exactly when the queue's contents are (Redis restarted without persistence, or flushed), and what those
    messages carried must be enqueued again. The first look ever finds no mark either (harmless for the sweeper:
    it enqueues its queued rows again).

    waiting: when nothing waits in the queue, a row enqueued a while ago and still queued lost its message (a
    worker killed with it reserved: Redis gives such messages back only after the visibility timeout)."""

    def look(client, queue: str) -> BrokerState:
        mark = mark_key.format(queue=queue)
        reset = bool(client.set(mark, timezone.now().isoformat(), nx=True, ex=mark_ttl))
        if not reset:
            client.expire(mark, mark_ttl)  # lives while sweeps run; a queue unswept for a day is gone
        return BrokerState(reset, _waiting(client, queue))

    return _with_redis_broker(look, queue) or BrokerState()


def waiting_messages(queue: str | None = None) -> int | None:
    """How many task messages wait in the queue (None: unknown, the broker is not Redis or did not answer)."""
    return _with_redis_broker(_waiting, queue)


def queue_of(task_name: str) -> str:
    """The queue the router sends this task to (CELERY_TASK_ROUTES): what to look at for its messages."""
    from celery import current_app

    route = current_app.amqp.router.route({}, task_name, task_type=current_app.tasks.get(task_name))
    return route["queue"].name


def _waiting(client, queue: str) -> int:
    # kombu keeps messages of priority p > 0 in "<queue>\x06\x16<p>"
    return sum(client.llen(name) for name in (queue, *(f"{queue}\x06\x16{p}" for p in (3, 6, 9))))


def _with_redis_broker(look, queue: str | None = None):
    """look(client, queue) on a Redis broker (the default queue unless named); None for other brokers or when Redis
    does not answer."""
    from celery import current_app

    url = current_app.conf.broker_url or ""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    import redis

    try:
        with redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5) as client:
            return look(client, queue or current_app.conf.task_default_queue)
    except redis.RedisError:
        log.warning("Could not reach the broker", exc_info=True)
        return None
