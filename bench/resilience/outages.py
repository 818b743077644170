"""Two outages of the far side, each a stretch of 503s, then of refused connections, then recovery:

- subscriber-webhook-outage: every subscriber webhook (generic, Slack, Discord) is down while a public update goes
  out on the subscriber_hooks channel; a few endpoints are gone for good (410).
- social-network-outage: the Mastodon instance is down while several updates of one incident fall due one after
  another; they must be posted once each, in order, each a reply to the one before.

Both run on the harness's real worker and beat processes (bench/resilience/harness.py) against the HTTP fakes of
bench/resilience/http_fakes.py, and return a scenarios.Result.
"""

import time
from collections import Counter

from bench.resilience.harness import Harness, Watch, endpoint_counts, wait_for
from bench.resilience.http_fakes import DEAD_ANSWER, EndpointSink, OutageMastodon
from bench.resilience.scenarios import Result, _state

# Low, so that transient failures, were they counted against an endpoint, would disable live endpoints mid-outage.
MAX_FAILURES = 2


def outbound_env() -> dict[str, str]:
    """The worker processes post to fakes on 127.0.0.1 over plain http, as tests/conftest.py lets the tests."""
    return {"OUTBOUND_ALLOW_HTTP": "true", "OUTBOUND_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SLACK_WEBHOOK_HOSTS": "127.0.0.1", "DISCORD_WEBHOOK_HOSTS": "127.0.0.1"}


class Outage:
    """Drives a fake through the outage: 503s for `unavailable` seconds from its first request, then its socket
    closed for `refused` seconds, then recovered; calls `sample` every quarter second meanwhile."""

    def __init__(self, fake, unavailable: float, refused: float, sample=lambda: None):
        self.fake, self.unavailable, self.refused, self.sample = fake, unavailable, refused, sample
        self.recovered_at: float | None = None  # time.time()

    def run(self, first_request_at, timeout: float) -> None:
        started = wait_for(first_request_at, timeout=timeout)
        if not started:
            return
        self._hold(started + self.unavailable)
        self.fake.stop_listening()
        self.fake.unavailable = False
        self._hold(time.time() + self.refused)
        self.fake.listen_again()
        self.recovered_at = time.time()

    def _hold(self, until: float) -> None:
        while time.time() < until:
            self.sample()
            time.sleep(min(0.25, max(until - time.time(), 0)))


# --- subscriber webhooks ----------------------------------------------------------------------------------


def _create_endpoints(sink: EndpointSink, kinds: dict[str, int]) -> dict[int, str]:
    """Confirmed endpoints, subscribed to everything, at the sink; endpoint id → its URL's path."""
    from urllib.parse import urlsplit

    from django.utils import timezone

    from comms.models import SubscriberEndpoint

    now = timezone.now()
    endpoints = SubscriberEndpoint.objects.bulk_create([
        SubscriberEndpoint(kind=kind, url=sink.endpoint_url(kind, number), requested_at=now, confirmed_at=now)
        for kind, count in kinds.items() for number in range(1, count + 1)
    ])
    return {endpoint.pk: urlsplit(endpoint.url).path for endpoint in endpoints}


def subscriber_webhook_outage(h: Harness, incident, kinds: dict[str, int], dead: int = 3,
                              unavailable_seconds: float = 15, refused_seconds: float = 5,
                              timeout: float = 300) -> Result:
    """kinds: endpoints per kind ({"webhook": 200, "slack": 20, "discord": 20}); the last `dead` generic webhooks
    answer 410 (deleted) once the outage is over."""
    from django.db.models import Sum

    from comms.models import Delivery, SubscriberEndpoint

    result = Result("subscriber webhook outage (every endpoint answers 503, then refuses connections, then recovers)")
    with EndpointSink() as sink:
        path_of = _create_endpoints(sink, kinds)
        generic = [pk for pk, path in path_of.items() if path.startswith("/hooks/")]
        dead_ids = set(generic[-dead:]) if dead else set()
        sink.dead = {path_of[pk] for pk in dead_ids}
        live = SubscriberEndpoint.objects.filter(pk__in=set(path_of) - dead_ids)
        h.extra_env.update({**outbound_env(), "SUBSCRIBER_ENDPOINT_MAX_FAILURES": str(MAX_FAILURES)})
        message = h.message(incident, "Card payments are failing (subscriber webhooks down)",
                            channels=["subscriber_hooks"])
        peak = Counter()

        def sample() -> None:
            from django.db.models import Max

            failures = live.aggregate(most=Max("consecutive_failures"))["most"] or 0
            peak["consecutive failures"] = max(peak["consecutive failures"], failures)
            peak["disabled"] = max(peak["disabled"], live.filter(disabled_at__isnull=False).count())

        sink.unavailable = True
        h.start()
        h.release(message)
        watch = Watch()
        outage = Outage(sink, unavailable_seconds, refused_seconds, sample)
        outage.run(lambda: sink.first_request_at, timeout)
        h.wait([message], timeout, watch)
        sample()
        counts = result.counts["subscriber_hooks"] = endpoint_counts(message.pk, sink.accepted, path_of, sink.dead)
        last_accepted = max(sink.accepted_at, default=None)
        answered_unavailable = sink.answered_unavailable
        reached = answered_unavailable + sink.answered_dead + sink.total
    result.states["subscriber_hooks"] = _state(message)
    result.seconds = watch.seconds
    endpoints = len(path_of)
    dead_endpoints = SubscriberEndpoint.objects.filter(pk__in=dead_ids)
    recovered_in = (last_accepted - outage.recovered_at) if last_accepted and outage.recovered_at else None
    retried = counts.retried
    attempts = Delivery.objects.filter(message=message).aggregate(total=Sum("attempts"))["total"] or 0
    result.facts.update({
        "endpoints": ", ".join(f"{n:,} {kind}" for kind, n in kinds.items()) + f" ({dead} of the generic ones "
                     f"deleted: {DEAD_ANSWER}); SUBSCRIBER_ENDPOINT_MAX_FAILURES {MAX_FAILURES}",
        "outage": f"503 for {unavailable_seconds:g} s from the first post ({answered_unavailable:,} answered), then "
                  f"connections refused for {refused_seconds:g} s ({attempts - reached:,} attempts refused); "
                  f"{retried:,} deliveries needed more than one attempt",
        "recovery→last delivery": f"{recovered_in:.1f} s" if recovered_in is not None else "never",
        "finished in": f"{watch.seconds:.1f} s from the release",
    })
    live_rows = endpoints - dead
    result.expect(f"all {endpoints:,} delivery rows exist", counts.rows == endpoints)
    result.expect(f"{live_rows:,} sent, {dead} failed", (counts.sent, counts.failed) == (live_rows, dead))
    result.expect("0 lost, 0 duplicated, 0 stuck", (counts.lost, counts.duplicated, counts.stuck) == (0, 0, 0))
    result.expect("the outage was felt (503s answered, deliveries retried)", answered_unavailable > 0 and retried > 0)
    result.expect("no live endpoint was disabled, and none counted a failure, during the outage or after",
                  (peak["disabled"], peak["consecutive failures"]) == (0, 0))
    result.expect(f"each deleted endpoint failed once with its {DEAD_ANSWER} and counted one failure (not disabled)",
                  set(counts.errors) == {f"Webhook endpoint #{pk} answered {DEAD_ANSWER} (gone); the webhook was "
                                         "deleted or no longer accepts posts" for pk in dead_ids}
                  and set(dead_endpoints.values_list("consecutive_failures", "disabled_at")) == ({(1, None)} if dead
                                                                                                 else set()))
    result.expect("message ends " + ("partially failed" if dead else "sent"),
                  result.states["subscriber_hooks"] == ("partially_failed" if dead else "sent"))
    return result


# --- a social network ------------------------------------------------------------------------------------


def social_network_outage(h: Harness, incident, updates: int = 3, spacing: float = 3.0,
                          unavailable_seconds: float = 15, refused_seconds: float = 5,
                          timeout: float = 300) -> Result:
    """Updates of a new incident (so that the first starts the thread) fall due `spacing` seconds apart on the
    Mastodon channel while the instance is down."""
    from django.utils import timezone

    from comms.models import Delivery
    from incidents import services
    from tests.fakes.mastodon import TOKEN

    result = Result("social network outage (Mastodon answers 503, then refuses connections, then recovers)")
    thread = services.create_incident(actor=incident.created_by, title="Checkout slow for some customers",
                                      severity="SEV2")
    with OutageMastodon() as mastodon:
        h.extra_env.update({**outbound_env(), "MASTODON_API_BASE_URL": mastodon.url, "MASTODON_ACCESS_TOKEN": TOKEN})
        messages = [h.message(thread, f"Checkout is slow for some customers (update {n + 1} of {updates})",
                              channels=["mastodon"]) for n in range(updates)]
        mastodon.unavailable = True
        h.start()
        now = timezone.now()
        for n, message in enumerate(messages):
            h.release(message, at=now + timezone.timedelta(seconds=spacing * n))
        watch = Watch()
        outage = Outage(mastodon, unavailable_seconds, refused_seconds)
        outage.run(lambda: mastodon.posts[0][0] if mastodon.posts else None, timeout)
        h.wait(messages, timeout, watch)
        posted, posts = list(mastodon.posted), list(mastodon.posts)
    result.seconds = watch.seconds
    code_of = dict(Delivery.objects.filter(message__in=messages, channel="mastodon").values_list("message_id", "code"))
    made = Counter(status["idempotency_key"] for status in posted)
    for n, message in enumerate(messages, 1):
        what = f"update {n}"
        result.states[what] = _state(message)
        counts = result.counts[what] = _mastodon_counts(message.pk, made[f"ears-{code_of.get(message.pk)}"])
        result.expect(f"{what}: posted once, message ends sent",
                      (counts.rows, counts.sent, counts.lost, counts.duplicated, counts.stuck) == (1, 1, 0, 0, 0)
                      and result.states[what] == "sent")
    order = [key for key in (status["idempotency_key"] for status in posted)]
    expected_order = [f"ears-{code_of.get(message.pk)}" for message in messages]
    replies = [status["in_reply_to_id"] for status in posted]
    result.expect("posted in the order the updates fell due", order == expected_order)
    result.expect("the first starts the thread, each later one replies to the one before",
                  replies == [None] + [status["id"] for status in posted[:-1]])
    attempts = dict(Delivery.objects.filter(message__in=messages, channel="mastodon").values_list("message_id",
                                                                                                 "attempts"))
    result.expect("the later updates waited their turn untried (one attempt each), behind the first",
                  all(attempts.get(message.pk) == 1 for message in messages[1:]))
    answers = Counter(status for _, status in posts)
    result.expect("the outage was felt (503s answered before any post)",
                  answers[503] > 0 and posts and posts[0][1] == 503)
    last_post = max((at for at, status in posts if status == 200), default=None)
    recovered_in = last_post - outage.recovered_at if last_post and outage.recovered_at else None
    result.facts.update({
        "outage": f"503 for {unavailable_seconds:g} s from the first post, then connections refused for "
                  f"{refused_seconds:g} s ({sum(attempts.values()) - len(posts)} attempts refused); updates fell "
                  f"due {spacing:g} s apart; posts answered: "
                  + ", ".join(f"{status} ×{n}" for status, n in sorted(answers.items())),
        "attempts": ", ".join(f"update {n}: {attempts.get(message.pk)}" for n, message in enumerate(messages, 1)),
        "thread": " → ".join(f"update {expected_order.index(key) + 1}" if key in expected_order else "?"
                             for key in order),
        "recovery→last post": f"{recovered_in:.1f} s" if recovered_in is not None else "never",
        "finished in": f"{watch.seconds:.1f} s from the first release",
    })
    return result


def _mastodon_counts(message_id: int, statuses_made: int):
    from bench.resilience.harness import Counts, _tally
    from comms.models import Delivery

    counts = Counts()
    for status, attempts, last_error in Delivery.objects.filter(message_id=message_id, channel="mastodon").values_list(
            "status", "attempts", "last_error"):
        _tally(counts, status, attempts, last_error, statuses_made, expected=True)
    return counts
