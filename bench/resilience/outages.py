"""Two outages of the far side, each a stretch of 503s, then of refused connections, then recovery:

- subscriber-webhook-outage: every subscriber webhook (generic, Slack, Discord) is down while a public update goes
  out on the subscriber_hooks channel; a few endpoints are gone for good (410).
- social-network-outage (Mastodon) and bluesky-outage: the network is down while several updates of one incident
  fall due one after another; they must be posted once each, in order, each a reply to the one before (Mastodon
  through an Idempotency-Key per delivery, Bluesky through a record key per delivery).

Both run on the harness's real worker and beat processes (bench/resilience/harness.py) against the HTTP fakes of
bench/resilience/http_fakes.py, and return a scenarios.Result.
"""

import time
from collections import Counter

from bench.resilience.harness import Harness, Watch, endpoint_counts, wait_for
from bench.resilience.http_fakes import DEAD_ANSWER, EndpointSink, OutageBluesky, OutageMastodon
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
                          timeout: float = 300, network: str = "mastodon") -> Result:
    """Updates of a new incident (so that the first starts the thread) fall due `spacing` seconds apart on the
    network's channel (mastodon or bluesky) while the network is down."""
    from django.utils import timezone

    from comms.models import Delivery
    from incidents import services

    fake_class, label, environment, first_request_at = _NETWORKS[network]
    result = Result(f"social network outage ({label} answers 503, then refuses connections, then recovers)")
    thread = services.create_incident(actor=incident.created_by, title="Checkout slow for some customers",
                                      severity="SEV2")
    with fake_class() as fake:
        h.extra_env.update({**outbound_env(), **environment(fake)})
        messages = [h.message(thread, f"Checkout is slow for some customers (update {n + 1} of {updates})",
                              channels=[network]) for n in range(updates)]
        fake.unavailable = True
        h.start()
        now = timezone.now()
        for n, message in enumerate(messages):
            h.release(message, at=now + timezone.timedelta(seconds=spacing * n))
        watch = Watch()
        outage = Outage(fake, unavailable_seconds, refused_seconds)
        outage.run(lambda: first_request_at(fake), timeout)
        h.wait(messages, timeout, watch)
        made, posts = _posts_made(network, fake, messages), list(fake.posts)
    result.seconds = watch.seconds
    order = [index for index, _ in made]  # which update each post the network made was, in the order made
    for n, message in enumerate(messages):
        what = f"update {n + 1}"
        result.states[what] = _state(message)
        counts = result.counts[what] = _social_counts(message.pk, network, order.count(n))
        result.expect(f"{what}: posted once, message ends sent",
                      (counts.rows, counts.sent, counts.lost, counts.duplicated, counts.stuck) == (1, 1, 0, 0, 0)
                      and result.states[what] == "sent")
    result.expect("posted in the order the updates fell due", order == list(range(updates)))
    result.expect("the first starts the thread, each later one replies to the one before",
                  [parent for _, parent in made] == [None, *range(updates - 1)])
    attempts = dict(Delivery.objects.filter(message__in=messages, channel=network).values_list("message_id",
                                                                                              "attempts"))
    result.expect("the later updates waited their turn untried (one attempt each), behind the first",
                  all(attempts.get(message.pk) == 1 for message in messages[1:]))
    answers = Counter(status for _, status in posts)
    felt = "503s answered before any post" if network == "mastodon" else "503s answered at sign-in, retried"
    result.expect(f"the outage was felt ({felt})", (
        answers[503] > 0 and posts and posts[0][1] == 503) if network == "mastodon" else (
        # Bluesky: signing in meets the outage first, so no post is tried before the network is back
        posts and posts[0][1] == 200 and (sum(attempts.values()) > updates)))
    last_post = max((at for at, status in posts if status == 200), default=None)
    recovered_in = last_post - outage.recovered_at if last_post and outage.recovered_at else None
    result.facts.update({
        "outage": f"503 for {unavailable_seconds:g} s from the first "
                  f"{'post' if network == 'mastodon' else 'request (signing in)'}, then connections refused for "
                  f"{refused_seconds:g} s ({sum(attempts.values()) - len(posts)} attempts refused); updates fell "
                  f"due {spacing:g} s apart; posts answered: "
                  + ", ".join(f"{status} ×{n}" for status, n in sorted(answers.items())),
        "attempts": ", ".join(f"update {n}: {attempts.get(message.pk)}" for n, message in enumerate(messages, 1)),
        "thread": " → ".join(f"update {index + 1}" if index is not None else "?" for index in order),
        "recovery→last post": f"{recovered_in:.1f} s" if recovered_in is not None else "never",
        "finished in": f"{watch.seconds:.1f} s from the first release",
    })
    return result


def _mastodon_environment(fake) -> dict[str, str]:
    from tests.fakes.mastodon import TOKEN

    return {"MASTODON_API_BASE_URL": fake.url, "MASTODON_ACCESS_TOKEN": TOKEN}


def _bluesky_environment(fake) -> dict[str, str]:
    from tests.fakes.bluesky import APP_PASSWORD, HANDLE

    return {"BLUESKY_HANDLE": HANDLE, "BLUESKY_APP_PASSWORD": APP_PASSWORD, "BLUESKY_SERVICE_URL": fake.url}


# network → (its fake, its name, the workers' environment for it, when the channel first met the fake: the outage's
# stretches are timed from then)
_NETWORKS = {
    "mastodon": (OutageMastodon, "Mastodon", _mastodon_environment,
                 lambda fake: fake.posts[0][0] if fake.posts else None),
    "bluesky": (OutageBluesky, "Bluesky", _bluesky_environment, lambda fake: fake.first_request_at),
}


def _posts_made(network: str, fake, messages) -> list[tuple[int | None, int | None]]:
    """(which update, which update it replies to) of every post the network made, in the order made; None where a
    post is none of the updates, or starts a thread."""
    from comms.models import Delivery

    if network == "mastodon":  # each status keeps the Idempotency-Key EARS sent: ears-<delivery code>
        index_of_key = {f"ears-{code}": n for n, code in enumerate(
            Delivery.objects.filter(message=message, channel=network).values_list("code", flat=True).first()
            for message in messages)}
        key_of_id = {status["id"]: status["idempotency_key"] for status in fake.posted}
        return [(index_of_key.get(status["idempotency_key"]),
                 index_of_key.get(key_of_id.get(status["in_reply_to_id"])) if status["in_reply_to_id"] else None)
                for status in fake.posted]
    records = list(fake.records.values())  # in the order made; a post is known by the update its text names
    index_of_uri = {record["uri"]: _update_named(record["value"]["text"], len(messages)) for record in records}
    return [(_update_named(record["value"]["text"], len(messages)),
             index_of_uri.get(((record["value"].get("reply") or {}).get("parent") or {}).get("uri")))
            for record in records]


def _update_named(text: str, updates: int) -> int | None:
    return next((n for n in range(updates) if f"(update {n + 1} of {updates})" in text), None)


def _social_counts(message_id: int, network: str, posts_made: int):
    from bench.resilience.harness import Counts, _tally
    from comms.models import Delivery

    counts = Counts()
    for status, attempts, last_error in Delivery.objects.filter(message_id=message_id, channel=network).values_list(
            "status", "attempts", "last_error"):
        _tally(counts, status, attempts, last_error, posts_made, expected=True)
    return counts
