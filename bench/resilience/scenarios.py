"""The five faults, and an ingest flood during a fan-out. Each scenario breaks one thing on purpose (or floods the
ingest) while real processes deliver real messages, then counts, per recipient, what arrived (sent / lost /
duplicated / failed / stuck) and checks it.

A scenario returns a Result; `make resilience` prints it and exits non-zero when an expectation did not hold,
and tests/resilience asserts the same counts on the short variants.
"""

import time
from collections import Counter
from dataclasses import dataclass, field

from bench.resilience.flood import LONG_EVERY
from bench.resilience.harness import (
    Counts,
    FakeX,
    Harness,
    Watch,
    email_counts,
    terminate_database_sessions,
    wait_for,
    x_counts,
)

REFUSED_REPLY = "550 5.1.1 No such user here"


@dataclass
class Result:
    name: str
    counts: dict[str, Counts] = field(default_factory=dict)  # what → counts (e.g. "email", "x 429 then success")
    facts: dict[str, str] = field(default_factory=dict)  # printed as they are
    states: dict[str, str] = field(default_factory=dict)  # what → the message's final state
    expectations: list[tuple[str, bool]] = field(default_factory=list)
    seconds: float = 0.0

    def expect(self, description: str, held: bool) -> None:
        self.expectations.append((description, bool(held)))

    @property
    def failures(self) -> list[str]:
        return [description for description, held in self.expectations if not held]

    def report(self) -> str:
        lines = [f"{self.name}:"]
        for what, counts in self.counts.items():
            lines.append(f"  {what}: {counts.line()} — message {self.states.get(what, '?')}")
            for error, n in counts.errors.items():
                lines.append(f"    failed with “{error}”: {n:,}")
        lines += [f"  {key}: {value}" for key, value in self.facts.items()]
        lines += [f"  {'ok  ' if held else 'FAIL'} {description}" for description, held in self.expectations]
        return "\n".join(lines)


def _state(message) -> str:
    message.refresh_from_db()
    return message.state


def _exactly_once(result: Result, what: str, counts: Counts, rows: int, state: str = "sent") -> None:
    result.expect(f"{what}: all {rows:,} delivery rows exist", counts.rows == rows)
    result.expect(f"{what}: 0 lost", counts.lost == 0)
    result.expect(f"{what}: 0 stuck in queued or sending", counts.stuck == 0)
    result.expect(f"{what}: message ends {state}", result.states[what] == state)


# --- 1. worker killed ------------------------------------------------------------------------------------


def worker_killed(h: Harness, incident, subscribers: int, kill_at: float = 0.3, timeout: float = 300) -> Result:
    """kill -9 the worker's process group part-way through a fan-out, start a new worker.

    The one delivery a killed worker can repeat is the one whose SMTP server had accepted it when the worker died,
    before its row was marked sent (at-least-once): at most one per batch it was sending. The scenario counts the
    repeats, checks that each is such a delivery, and that no batch repeated more than one."""
    from comms.models import Delivery

    result = Result("worker killed (kill -9 of its process group mid fan-out)")
    with h.open_sink() as sink:
        message = h.message(incident, "Card payments are failing for some customers (worker killed)")
        first, = h.start()
        h.release(message)
        wait_for(lambda: sink.handler.total >= subscribers * kill_at, timeout=timeout)
        first.kill()
        watch = Watch()
        received_at_kill = sink.handler.total
        held = dict(Delivery.objects.filter(message=message, status="sending").values_list("pk", "claimed_at"))
        h.start_worker()
        h.wait([message], timeout, watch)
        counts = result.counts["email"] = email_counts(message.pk, sink.handler.message_ids)
    result.states["email"] = _state(message)
    result.seconds = watch.seconds
    claims_held = len(set(held.values()))
    repeated_per_batch = Counter(held.get(pk) for pk in counts.duplicated_rows)
    result.facts.update({
        "killed after": f"{received_at_kill:,} of {subscribers:,} received; the dead worker held {len(held):,} rows "
                        f"in {claims_held} batches",
        "recovered in": f"{watch.seconds:.1f} s from the kill to the message ending (a dead claim was held "
                        f"{watch.longest_sending:.1f} s at most)",
        "repeated": f"{counts.duplicated} (bound: one per batch the dead worker was sending, here {claims_held})",
    })
    _exactly_once(result, "email", counts, subscribers)
    result.expect("email: every repeat is a delivery the dead worker was sending",
                  all(pk in held for pk in counts.duplicated_rows))
    result.expect("email: at most one repeat per batch the dead worker was sending, each received twice at most",
                  all(n <= 1 for n in repeated_per_batch.values()) and counts.duplicated == len(counts.duplicated_rows))
    return result


# --- 2. broker restart -----------------------------------------------------------------------------------


def broker_restart(h: Harness, incident, subscribers: int, restart_at: float = 0.3, down_for: float = 2.0,
                   timeout: float = 300, recovery_bound: float | None = None) -> Result:
    """Restart the (private, non-persistent) Redis while a fan-out is being delivered."""
    result = Result("broker restart (Redis without persistence, mid fan-out)")
    with h.open_sink() as sink:
        message = h.message(incident, "Card payments are failing for some customers (broker restart)")
        h.start()
        h.release(message)
        watch = Watch()
        wait_for(lambda: sink.handler.total >= subscribers * restart_at, timeout=timeout)
        received_at_restart = sink.handler.total
        h.redis.restart(down_for)
        restarted = time.monotonic()
        h.wait([message], timeout, watch)
        counts = result.counts["email"] = email_counts(message.pk, sink.handler.message_ids)
    result.states["email"] = _state(message)
    result.seconds = watch.seconds
    result.facts.update({
        "restarted after": f"{received_at_restart:,} of {subscribers:,} received; Redis down {down_for:.0f} s, "
                           "its queue lost",
        "recovered in": f"{(watch.done_at or time.monotonic()) - restarted:.1f} s from the restart to the message "
                        f"ending",
        "longest in sending": f"{watch.longest_sending:.1f} s",
    })
    _exactly_once(result, "email", counts, subscribers)
    result.expect("email: 0 duplicated", counts.duplicated == 0)
    if recovery_bound is not None:
        result.expect(f"no delivery stayed in sending longer than {recovery_bound:.0f} s",
                      watch.longest_sending <= recovery_bound)
    return result


# --- 3. channel outage -----------------------------------------------------------------------------------


X_SCRIPTS = {
    "[x-429]": ["rate-limited 3", "created"],
    "[x-503]": ["unavailable", "unavailable", "unavailable", "created"],
    "[x-403]": ["duplicate"],
}


def channel_outage(h: Harness, incident, subscribers: int, refused: int, outage_seconds: float,
                   unavailable_times: int = 3, timeout: float = 300) -> Result:
    """SMTP answers 4xx to everything for a while and 5xx to some recipients for good; X answers 429 with a reset
    time, 503 a few times, and 403 duplicate content."""
    from comms.models import Delivery, Subscriber

    result = Result("channel outage (SMTP 4xx then recovery, SMTP 5xx for some; X 429, 503, 403)")
    scripts = {**X_SCRIPTS, "[x-503]": ["unavailable"] * unavailable_times + ["created"]}
    with h.open_sink() as sink, FakeX(scripts) as fake_x:
        h.fake_x = fake_x
        email = h.message(incident, "Card payments are failing (mail server outage)")
        x_messages = {tag: h.message(incident, f"Card payments are failing {tag}", channels=["x"])
                      for tag in scripts}
        refused_addresses = set(Subscriber.objects.filter(confirmed_at__isnull=False).order_by("pk")
                                .values_list("email", flat=True)[:refused])
        for address in refused_addresses:
            sink.handler.refuse_recipients[address] = REFUSED_REPLY
        h.start()
        sink.handler.outage_seconds = outage_seconds  # from the first RCPT on
        h.release(email, *x_messages.values())
        watch = h.wait([email, *x_messages.values()], timeout)
        counts = result.counts["email"] = email_counts(email.pk, sink.handler.message_ids, refused_addresses)
        result.states["email"] = _state(email)
        x_requests = {tag: fake_x.requests_for(tag) for tag in scripts}
        for tag, message in x_messages.items():
            created = sum(r["status"] == 201 for r in x_requests[tag])
            result.counts[f"x {tag}"] = x_counts(message.pk, created)
            result.states[f"x {tag}"] = _state(message)
            result.facts[f"x {tag} answers"] = " → ".join(str(r["status"]) for r in x_requests[tag])
    result.seconds = watch.seconds
    tempfailed_then_sent = Delivery.objects.filter(message=email, status="sent", attempts__gt=1).count()
    result.facts.update({
        "SMTP outage": f"every RCPT answered 451 for {outage_seconds:.0f} s from the first: "
                       f"{sink.handler.tempfailed:,} refusals; "
                       f"{tempfailed_then_sent:,} deliveries needed more than one attempt",
        "finished in": f"{watch.seconds:.1f} s",
    })
    rows = subscribers
    result.expect(f"email: all {rows:,} delivery rows exist", counts.rows == rows)
    result.expect(f"email: {rows - refused:,} sent, {refused} failed", (counts.sent, counts.failed) == (rows - refused,
                                                                                                      refused))
    result.expect("email: 0 lost, 0 duplicated, 0 stuck", (counts.lost, counts.duplicated, counts.stuck) == (0, 0, 0))
    result.expect("email: the outage was retried with backoff (deliveries took more than one attempt)",
                  tempfailed_then_sent > 0)
    result.expect("email: every failure shows the server's reply (SMTP 550 …)",
                  set(counts.errors) == {"SMTP 550: 5.1.1 No such user here"})
    result.expect("email: message ends partially failed", result.states["email"] == "partially_failed")

    rate_limited = x_requests["[x-429]"]
    result.expect("x 429: posted once, after the reset time X gave",
                  [r["status"] for r in rate_limited] == [429, 201]
                  and rate_limited[1]["at"] >= rate_limited[0]["reset"])
    result.expect("x 429: message ends sent", result.states["x [x-429]"] == "sent")
    result.expect(f"x 503: retried {unavailable_times} times, then posted once",
                  [r["status"] for r in x_requests["[x-503]"]] == [503] * unavailable_times + [201])
    result.expect("x 503: message ends sent", result.states["x [x-503]"] == "sent")
    duplicate = result.counts["x [x-403]"]
    result.expect("x 403 duplicate content: tried once, failed for good with X's reason",
                  len(x_requests["[x-403]"]) == 1 and duplicate.failed == 1
                  and any("duplicate content" in e for e in duplicate.errors))
    result.expect("x 403: message ends failed", result.states["x [x-403]"] == "failed")
    return result


# --- 4. database blip ------------------------------------------------------------------------------------


def database_blip(h: Harness, incident, subscribers: int, blips_at=(0.3, 0.6), timeout: float = 300) -> Result:
    """Terminate every worker session on the database (pg_terminate_backend) while a fan-out is delivered."""
    result = Result("database blip (pg_terminate_backend of the workers' sessions mid-batch)")
    with h.open_sink() as sink:
        message = h.message(incident, "Card payments are failing for some customers (database blip)")
        h.start()
        h.release(message)
        watch = Watch()
        terminated = []
        for at in blips_at:
            wait_for(lambda at=at: sink.handler.total >= subscribers * at, timeout=timeout)
            terminated.append((sink.handler.total, terminate_database_sessions()))
        h.wait([message], timeout, watch)
        counts = result.counts["email"] = email_counts(message.pk, sink.handler.message_ids)
    result.states["email"] = _state(message)
    result.seconds = watch.seconds
    result.facts.update({
        "sessions terminated": ", ".join(f"{n} after {received:,} received" for received, n in terminated),
        "finished in": f"{watch.seconds:.1f} s (claims held {watch.longest_sending:.1f} s at most)",
    })
    result.expect("the blips hit live worker sessions", all(n > 0 for _, n in terminated))
    _exactly_once(result, "email", counts, subscribers)
    result.expect("email: 0 duplicated", counts.duplicated == 0)
    return result


# --- 5. two beats ----------------------------------------------------------------------------------------


def beat_twice(h: Harness, incident, subscribers: int, messages: int = 3, spacing: float = 2.0,
               timeout: float = 300) -> Result:
    """Two beat processes (a deployment mistake) schedule every periodic task twice; messages fall due one after
    another while both run."""
    from django.utils import timezone

    from incidents.choices import TimelineKind
    from incidents.models import TimelineEntry

    result = Result("beat twice (two beat processes)")
    with h.open_sink() as sink:
        batch = [h.message(incident, f"Card payments update {n + 1} (two beats)") for n in range(messages)]
        h.start(beats=2)
        now = timezone.now()
        for n, message in enumerate(batch):
            h.release(message, at=now + timezone.timedelta(seconds=spacing * n))
        watch = h.wait(batch, timeout)
        for n, message in enumerate(batch, 1):
            what = f"update {n}"
            counts = result.counts[what] = email_counts(message.pk, sink.handler.message_ids)
            result.states[what] = _state(message)
            _exactly_once(result, what, counts, subscribers)
            result.expect(f"{what}: 0 duplicated", counts.duplicated == 0)
            dispatches = TimelineEntry.objects.filter(incident=incident, kind=TimelineKind.MESSAGE,
                                                      data__message_id=message.pk).count()
            result.expect(f"{what}: dispatched once (one “Sending” timeline entry)", dispatches == 1)
    result.seconds = watch.seconds
    result.facts["finished in"] = f"{watch.seconds:.1f} s"
    return result


# --- 6. ingest flood during a fan-out --------------------------------------------------------------------


@dataclass
class FanOutTimes:
    """Seconds from publishing a message (messaging.publish, as the Publish button) to its first email accepted by
    the SMTP server, and to the message ending (its last delivery recorded)."""

    first: float
    sent: float
    published_at: object  # datetime
    first_at: object
    finished_at: object

    def line(self) -> str:
        return f"publish→first email {self.first:.1f} s, publish→sent {self.sent:.1f} s"


def _publish_and_wait(h: Harness, incident, lead, headline: str, timeout: float):
    from django.db.models import Min

    from comms.models import Delivery

    message = h.message(incident, headline)
    h.publish(message, lead)  # the dispatch is enqueued on commit, as after the Publish button
    h.wait([message], timeout)
    message.refresh_from_db()
    first_at = Delivery.objects.filter(message=message).aggregate(first=Min("sent_at"))["first"]
    published_at, finished_at = message.scheduled_for, message.finished_at
    if first_at is None or finished_at is None:
        return message, None
    return message, FanOutTimes((first_at - published_at).total_seconds(), (finished_at - published_at).total_seconds(),
                                published_at, first_at, finished_at)


def ingest_flood(h: Harness, incident, subscribers: int, mentions: int, *, ingest_concurrency: int = 2,
                 ingest_nice: int = 10, posters: int = 2, publish_after: float = 0.25, max_ratio: float | None = 1.5,
                 outlast: bool = True, timeout: float = 300, flood_timeout: float = 1800) -> Result:
    """Customer messages first: a fan-out published while a flood of mentions is ingested and scored goes out as
    fast as one published on a quiet system. The worker layout of the Procfile: a worker consuming the deliveries
    queue alone, another the default and ingest queues with its CPU priority lowered by `ingest_nice` (10, as the
    Procfile does; 0: not lowered). The same fan-out runs twice, first
    without the flood, then once `publish_after` of the flood is stored (the API still taking the rest from
    `posters` processes side by side, the scoring behind). `outlast`: expect mentions still unscored when the
    message ended, so that the whole fan-out ran during the flood (the full-size run; the short variant's flood is
    over sooner)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db.models import Max

    from core.roles import COMMS_LEAD
    from sentiment.models import Mention

    result = Result("ingest flood during a fan-out (a worker for the deliveries queue alone, as in the Procfile)")
    lead, _ = get_user_model().objects.get_or_create(username="resilience-lead")
    lead.groups.add(Group.objects.get(name=COMMS_LEAD))
    with h.open_sink() as sink:
        h.start_beat()
        workers = [h.start_worker(queues="deliveries", wait=False),
                   h.start_worker(queues="default,ingest", concurrency=ingest_concurrency, nice=ingest_nice,
                                  wait=False)]
        for worker in workers:
            h.wait_until_ready(worker)

        quiet_message, quiet = _publish_and_wait(h, incident, lead, "Card payments are failing (a quiet system)",
                                                 timeout)
        before = Mention.objects.aggregate(last=Max("pk"))["last"] or 0
        flood_mentions = Mention.objects.filter(pk__gt=before)
        flood = h.start_flood(mentions, posters)
        flood_started = time.monotonic()

        def flooding() -> bool:
            return any(poster.running for poster in flood)

        wait_for(lambda: flood_mentions.count() >= mentions * publish_after or not flooding(), timeout=timeout)
        flooded_message, flooded = _publish_and_wait(h, incident, lead, "Card payments are failing (during a flood)",
                                                     timeout)

        wait_for(lambda: not flooding(), timeout=flood_timeout)
        posted_in = time.monotonic() - flood_started
        wait_for(lambda: not flood_mentions.filter(scored_at__isnull=True).exists(),
                 timeout=max(flood_timeout - posted_in, 1), interval=1)
        scored_in = time.monotonic() - flood_started
        for what, message in (("without the flood", quiet_message), ("with the flood", flooded_message)):
            counts = result.counts[what] = email_counts(message.pk, sink.handler.message_ids)
            result.states[what] = _state(message)
            _exactly_once(result, what, counts, subscribers)
            result.expect(f"{what}: 0 duplicated", counts.duplicated == 0)

    stored, unscored = flood_mentions.count(), flood_mentions.filter(scored_at__isnull=True).count()
    long_texts = len(range(0, mentions, LONG_EVERY))
    result.facts["flood"] = (f"{mentions:,} mentions ({long_texts:,} of 1,000 to 10,000 characters, the rest about "
                             f"100) posted to the bulk API by {posters} processes side by side in {posted_in:.0f} s, "
                             f"all scored {scored_in:.0f} s after the first request")
    result.expect(f"the flood: all {mentions:,} mentions stored once, and scored", (stored, unscored) == (mentions, 0))
    result.expect("the flood: its processes ended well (every request answered 200, no item refused)",
                  all(poster.popen.returncode == 0 for poster in flood))
    if quiet is None or flooded is None:
        result.expect("both fan-outs ended with a first email and an end time", False)
        return result
    # Overlap, from the times the database recorded: the fan-out went out while the flood waited to be scored.
    stored_before_publish = flood_mentions.filter(received_at__lte=flooded.published_at)
    waiting_at_publish = stored_before_publish.exclude(scored_at__lte=flooded.published_at)
    backlog_at_publish = waiting_at_publish.count()
    still_waiting_at_first = waiting_at_publish.exclude(scored_at__lte=flooded.first_at).count()
    unscored_at_end = flood_mentions.exclude(scored_at__lte=flooded.finished_at).count()
    result.facts.update({
        "without the flood": quiet.line(),
        "with the flood": flooded.line(),
        "published": f"when {stored_before_publish.count():,} mentions of the flood were stored, "
                     f"{backlog_at_publish:,} of them not yet scored; {still_waiting_at_first:,} of those still "
                     f"waited at the first email, and {unscored_at_end:,} of the flood when the message ended",
        "line": f"flood: publish→sent {flooded.sent:.1f} s with flood, {quiet.sent:.1f} s without, ratio "
                f"{flooded.sent / quiet.sent:.2f}",
    })
    result.expect("the first email went out while mentions stored before publishing still waited to be scored "
                  "(deliveries do not queue behind scoring)", still_waiting_at_first > 0)
    if outlast:
        result.expect("the flood was still being scored when the message ended", unscored_at_end > 0)
    if max_ratio is not None:
        for what, with_flood, without in (("publish→first email", flooded.first, quiet.first),
                                          ("publish→sent", flooded.sent, quiet.sent)):
            result.expect(f"{what}: with the flood at most {max_ratio:g} × without ({with_flood / without:.2f})",
                          with_flood <= max_ratio * without)
    return result
