"""From a due message to every recipient on every channel, each exactly once.

1. dispatch_due_messages claims scheduled messages whose time has come (scheduled → sending, a conditional
   update: two beats or two workers cannot both win), then creates one Delivery row per (message, channel,
   recipient), committing and enqueueing them in chunks so workers start sending while the rest are created
   (send_deliveries tasks carry only ids). The message is marked fanned out when every row exists.
3. send_deliveries claims its rows (queued → sending, row locks skipped by other workers), sends each over one
   shared connection and records each result immediately: sent, failed (permanent, or out of attempts), or
   queued again with a next attempt time (transient; exponential backoff with jitter, or the far side's reset).
4. sweep_deliveries puts rows back in the queue when their worker died, re-enqueues due retries and rows whose
   broker message was lost, and resumes a fan-out whose dispatcher died; a message finishes when it is fanned
   out and no row is queued or sending.

A row is marked sent right after its own send, so a task that runs twice sends nothing twice; a worker killed
between a send and its record is the one window that can repeat a delivery: at most one per batch the worker
was sending when it died (at-least-once).

On PostgreSQL a claim (and a fan-out) is held by an advisory lock of the session that made it, so the sweeper
can tell a dead worker's rows from rows still being sent, and rescues them at its next run instead of after the
longest a task may run; a worker whose database session is cut (failover, pg_terminate_backend, a restarted
pooler) reconnects, takes its claim back and goes on recording. Details at the helpers below.
"""

from comms.delivery.dispatch import (
    complete_fan_out,
    dispatch_due_messages,
    enqueue_queued,
    fan_out,
    finish_message_if_done,
    mark_enqueued,
)
from comms.delivery.send import BatchOutcome, Claim, StopRequest, backoff_seconds, claim, send_deliveries
from comms.delivery.sweep import sweep_deliveries
from core.broker import waiting_messages

__all__ = [
    "BatchOutcome", "Claim", "StopRequest", "backoff_seconds", "claim", "complete_fan_out", "dispatch_due_messages",
    "enqueue_queued", "fan_out", "finish_message_if_done", "mark_enqueued", "send_deliveries", "sweep_deliveries",
    "waiting_messages",
]
