"""The recovery paths the fault scenarios found missing, one at a time, in-process on PostgreSQL (and Redis).

A "worker" here is a thread of the test process: it has a database session of its own, so ending that
session is what a killed worker's death looks like to PostgreSQL."""

import os
import signal
import threading
import time

import pytest
from django.db import connection, connections
from django.utils import timezone

from comms import delivery
from comms.choices import DeliveryStatus, MessageState
from comms.models import Delivery, Message
from core.broker import queue_of
from tests.comms.helpers import confirmed_subscribers, scheduled_message
from tests.conftest import skip_or_fail

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def postgresql():
    if connection.vendor != "postgresql":
        skip_or_fail("the claim and fan-out locks are PostgreSQL advisory locks; set DATABASE_URL to PostgreSQL")


@pytest.fixture
def no_grace(monkeypatch):
    monkeypatch.setattr(delivery.sweep, "DEAD_CLAIM_GRACE_SECONDS", 0)


def dispatched_rows(lead, subscribers: int = 4) -> list[int]:
    confirmed_subscribers(subscribers)
    message = scheduled_message(lead, channels=["email"])
    assert delivery.dispatch_due_messages() == [message.pk]
    return list(Delivery.objects.filter(message=message).values_list("pk", flat=True))


class Worker(threading.Thread):
    """Runs one function in a thread with its own database session, then waits until told to end it."""

    def __init__(self, function):
        super().__init__(daemon=True)
        self.function, self.result, self.backend_pid = function, None, None
        self.ready, self.finish = threading.Event(), threading.Event()

    def run(self):
        try:
            self.result, self.backend_pid = self.function(), backend_pid()
            self.ready.set()
            self.finish.wait(30)
        finally:
            connections.close_all()  # the session ends: PostgreSQL releases its locks

    def __enter__(self):
        self.start()
        assert self.ready.wait(30)
        return self

    def __exit__(self, *exc):
        self.finish.set()
        self.join(30)
        self.wait_for_session_end()

    def wait_for_session_end(self, timeout: float = 10):
        """The client hangs up at once; the server process ends, and frees its locks, a moment later."""
        deadline = time.monotonic() + timeout
        with connection.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [self.backend_pid])
                if cursor.fetchone()[0] == 0:
                    return
                time.sleep(0.01)
        raise AssertionError(f"the worker's database session {self.backend_pid} did not end within {timeout} s")


def test_the_rows_of_a_claim_whose_session_ended_go_back_to_the_queue_at_the_next_sweep(lead, no_grace):
    ids = dispatched_rows(lead)
    with Worker(lambda: delivery.claim(ids)) as worker:
        assert delivery.sweep_deliveries()["recovered"] == 0  # its worker is alive: the claim stands
        assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENDING}
    assert worker.result.ids == ids

    assert delivery.sweep_deliveries()["recovered"] == 4  # the session is gone, and the claim with it

    row = Delivery.objects.first()
    assert (row.status, row.last_error) == (DeliveryStatus.QUEUED, "Recovered from a worker that stopped mid-batch")


def test_a_fan_out_whose_dispatcher_session_ended_is_completed_at_the_next_sweep(lead, no_grace):
    confirmed_subscribers(3)
    message = scheduled_message(lead, channels=["email"])
    Message.objects.filter(pk=message.pk).update(state=MessageState.SENDING, dispatched_at=timezone.now())

    with Worker(lambda: delivery.locks.hold_lock(delivery.locks.FAN_OUT_LOCKS, message.pk)):
        assert delivery.sweep_deliveries()["resumed_fan_outs"] == 0  # the dispatcher is still at it
    assert delivery.sweep_deliveries()["resumed_fan_outs"] == 1

    assert Delivery.objects.filter(message=message).count() == 3
    message.refresh_from_db()
    assert message.fanned_out_at is not None
    assert message.incident.timeline.filter(description__startswith="Sending “").count() == 1


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def cut_session(pid: int) -> None:
    """pg_terminate_backend from a session of its own, as a failover or a restarted pooler would end it."""
    import psycopg

    db = connection.settings_dict
    with psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"],
                         dbname=db["NAME"], autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_a_worker_whose_database_session_is_cut_mid_batch_records_every_send_and_repeats_none(smtp_sink, lead):
    ids = dispatched_rows(lead, subscribers=6)
    pid = backend_pid()
    accept = smtp_sink.handle_DATA

    async def cut_after_the_third(server, session, envelope):
        reply = await accept(server, session, envelope)
        if smtp_sink.total == 3:  # the third is accepted: end the worker's session before it records it
            cut_session(pid)
        return reply

    smtp_sink.handle_DATA = cut_after_the_third

    outcome = delivery.send_deliveries(ids)

    assert (outcome.sent, outcome.given_back) == (6, 0)
    assert smtp_sink.total == 6 and smtp_sink.duplicates == 0
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    assert backend_pid() != pid  # it did reconnect


def test_a_worker_whose_session_is_cut_right_after_its_claim_keeps_the_claim_and_sends_the_batch(
    smtp_sink, lead, monkeypatch
):
    ids = dispatched_rows(lead)
    claim = delivery.claim

    def claim_then_lose_the_session(delivery_ids):
        claimed = claim(delivery_ids)
        cut_session(backend_pid())
        return claimed

    monkeypatch.setattr(delivery.send, "claim", claim_then_lose_the_session)

    outcome = delivery.send_deliveries(ids)

    assert (outcome.sent, outcome.given_back) == (4, 0)
    assert smtp_sink.total == 4 and smtp_sink.duplicates == 0
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}


def test_a_worker_told_to_stop_mid_batch_records_the_send_in_flight_and_gives_back_the_rest(
    smtp_sink, lead, monkeypatch
):
    ids = dispatched_rows(lead, subscribers=6)
    resumed = []
    monkeypatch.setattr(delivery.StopRequest, "resume", staticmethod(lambda: resumed.append(True)))
    accept = smtp_sink.handle_DATA

    async def stop_during_the_second(server, session, envelope):
        if smtp_sink.total == 1:
            os.kill(os.getpid(), signal.SIGTERM)  # as Celery terminates a task after losing its broker
        return await accept(server, session, envelope)

    smtp_sink.handle_DATA = stop_during_the_second
    own_handler_calls = []

    def own_handler(*_):  # stands in for the process's own SIGTERM handler (Celery's, or the default)
        own_handler_calls.append(True)

    previous = signal.signal(signal.SIGTERM, own_handler)
    try:
        outcome = delivery.send_deliveries(ids)
        handler_after = signal.getsignal(signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, previous)

    assert (outcome.sent, outcome.stopped, resumed) == (2, True, [True])  # resume(): handed on once recorded
    assert own_handler_calls == []  # the stop did not cut the batch between a send and its record …
    assert handler_after is own_handler  # … and the process's own handler is back to take it
    assert smtp_sink.total == 2
    rows = dict(Delivery.objects.values_list("recipient", "status"))
    assert sorted(rows.values()) == [DeliveryStatus.QUEUED] * 4 + [DeliveryStatus.SENT] * 2
    queued = Delivery.objects.filter(status=DeliveryStatus.QUEUED)
    assert set(queued.values_list("attempts", "enqueued_at")) == {(0, None)}


@pytest.fixture
def broker(tmp_path, monkeypatch):
    """A Redis broker of the test's own (a shared one may be flushed by anyone), with the task messages the
    sweeper sends recorded instead of published: (redis client, queue, mark key, row ids enqueued per message)."""
    import redis
    from celery import current_app

    from bench.resilience.harness import HarnessUnavailable, PrivateRedis
    from comms import tasks

    try:
        server = PrivateRedis(tmp_path).start()
    except HarnessUnavailable as error:
        skip_or_fail(str(error))
    monkeypatch.setattr(current_app.conf, "broker_url", server.url)
    published = []
    monkeypatch.setattr(tasks.send_deliveries, "apply_async", lambda args, **options: published.append(args[0]))
    queue = queue_of("comms.tasks.send_deliveries")  # the deliveries queue, which the sweeper looks at
    with redis.Redis.from_url(server.url) as client:
        yield client, queue, delivery.sweep.BROKER_MARK_KEY.format(queue=queue), published
    server.stop()


def test_rows_whose_task_messages_a_restarted_broker_lost_are_enqueued_again_at_the_next_sweep(lead, broker):
    client, queue, mark, published = broker
    ids = dispatched_rows(lead)  # enqueued: four rows in one task message
    delivery.sweep_deliveries()  # the first sweep sets its mark
    published.clear()

    assert delivery.sweep_deliveries()["lost_with_broker"] == 0  # nothing lost: nothing enqueued again
    assert published == []
    client.flushdb()  # Redis restarted without persistence: the queue and the mark are gone

    swept = delivery.sweep_deliveries()

    assert (swept["lost_with_broker"], swept["enqueued"]) == (4, 4)
    assert published == [ids]
    assert client.exists(mark)


def test_rows_whose_task_message_a_dead_worker_held_are_enqueued_again_once_the_queue_is_empty(lead, broker):
    client, queue, mark, published = broker
    ids = dispatched_rows(lead)
    delivery.sweep_deliveries()  # sets the mark
    published.clear()
    a_while_ago = timezone.now() - timezone.timedelta(seconds=delivery.sweep.IDLE_LOST_ENQUEUE_SECONDS + 1)
    Delivery.objects.filter(pk__in=ids[:2]).update(enqueued_at=a_while_ago)  # their message was taken by a worker
    client.rpush(queue, "someone else's task")  # that then died (Redis gives it back only much later)

    assert delivery.sweep_deliveries()["enqueued"] == 0  # something still waits in the queue: it may be theirs

    client.delete(queue)
    assert delivery.sweep_deliveries()["enqueued"] == 2  # nothing waits: those enqueued a while ago were lost
    assert published == [ids[:2]]
