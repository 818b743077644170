"""Polling ingest: mentions read from a fake Mastodon instance and a fake Bluesky server (tests/fakes, HTTP on
127.0.0.1) by the beat tasks that poll them, run by a real worker, stored, scored, linked and flagged — against a
plain loop of VADER's polarity_scores over the same texts, in the same run.

The texts are those of the bulk-API benchmark (bench/ingest.py), so the two ratios compare like with like; each
post mentions our account (`@acme …`), and the texts scored by VADER are the mentions' texts as stored. The
searches are polled back to back (interval 0; the benchmark sends the network's poll task as soon as the previous
poll of it has ended, where beat would wait up to 15 s), so what is measured is the pipeline, not the schedule:
Mastodon pages of 40 (25 pages a poll), Bluesky pages of 100 (10 pages a poll), each page stored in one
transaction and scored by a task of its own."""

import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import CpuMeter, measured_worker, progress, wait_for
from bench.ingest import customers_and_an_open_incident, run_vader, texts

POSTS = int(os.environ.get("BENCH_SOCIAL_POSTS", 10_000))  # per network
WORKER_CONCURRENCY = int(os.environ.get("BENCH_INGEST_CONCURRENCY", 2))
ROUNDS = int(os.environ.get("BENCH_SOCIAL_ROUNDS", 3))
AUTHORS = 5000  # user0 … user4999, as in the bulk-API benchmark: the first 500 belong to customer accounts
NETWORKS = ("mastodon", "bluesky")


def environment(mastodon, bluesky) -> dict[str, str]:
    """What the worker needs to reach the fakes: their URLs and credentials, and the outbound guard's permission for
    plain http to 127.0.0.1 (as `make run` sets it for local fakes)."""
    from tests.fakes.bluesky import APP_PASSWORD, HANDLE
    from tests.fakes.mastodon import TOKEN

    return {"MASTODON_API_BASE_URL": mastodon.url, "MASTODON_ACCESS_TOKEN": TOKEN, "BLUESKY_HANDLE": HANDLE,
            "BLUESKY_APP_PASSWORD": APP_PASSWORD, "BLUESKY_SERVICE_URL": bluesky.url, "OUTBOUND_ALLOW_HTTP": "true",
            "OUTBOUND_ALLOWED_HOSTS": "127.0.0.1"}


def bluesky_handles_for_the_accounts() -> None:
    """The customer accounts' Bluesky handles too (user7.bsky.social), so that Bluesky mentions link as often."""
    from accounts.models import SocialHandle

    SocialHandle.objects.bulk_create([
        SocialHandle(account_id=account_id, handle=f"{handle}.bsky.social")
        for account_id, handle in SocialHandle.objects.exclude(handle__endswith=".bsky.social")
        .values_list("account_id", "handle")
    ], ignore_conflicts=True)


def create_searches(mastodon, bluesky) -> dict:
    """Mentions of our account on each network, polled back to back. The cursors start just before the first post
    (a new search would otherwise start from now and read only the newest page)."""
    from sentiment.models import SocialSearch

    Kind = SocialSearch.Kind
    start_id = next(mastodon.ids) - 1  # Mastodon's min_id: the statuses right after it
    start_time = bluesky.clock.replace(microsecond=0).isoformat()  # Bluesky: posts indexed after this time
    return {
        "mastodon": SocialSearch.objects.create(name="bench mastodon mentions", network="mastodon",
                                                kind=Kind.MENTIONS, interval_seconds=0, cursor=str(start_id)),
        "bluesky": SocialSearch.objects.create(name="bench bluesky mentions", network="bluesky", kind=Kind.MENTIONS,
                                               interval_seconds=0, cursor=start_time),
    }


def seed(mastodon, bluesky, all_texts: list[str], round_no: int) -> None:
    """POSTS new mentions on each network (the fakes forget the previous round's, which are stored already)."""
    with mastodon.lock:
        mastodon.statuses.clear()
        mastodon.notifications.clear()
        mastodon.requests.clear()
    with bluesky.lock:
        bluesky.posts.clear()
        bluesky.notifications.clear()
        bluesky.requests.clear()
    for n, text in enumerate(all_texts[:POSTS]):
        mastodon.add_mention(text, acct=f"user{n % AUTHORS}", followers=n % 20000)
    for n, text in enumerate(all_texts[POSTS:]):
        bluesky.add_mention(text, handle=f"user{n % AUTHORS}.bsky.social")
    sys.stderr.write(f"round {round_no}: {POSTS:,} mentions on each fake network\n")


class Beat:
    """Sends a network's poll task when its search is due and no task was sent for that state of it yet: the poll
    that ends sets next_poll_at anew (interval 0: now), and the next task goes out at the next tick."""

    def __init__(self, searches: dict):
        from sentiment import tasks

        self.tasks = {"mastodon": tasks.poll_mastodon_searches, "bluesky": tasks.poll_bluesky_searches}
        self.search_ids = {network: search.pk for network, search in searches.items()}
        self.sent_for = {network: object() for network in NETWORKS}  # nothing sent yet
        self.sent = dict.fromkeys(NETWORKS, 0)

    def tick(self, networks) -> None:
        from django.utils import timezone

        from sentiment.models import SocialSearch

        now = timezone.now()
        for network in networks:
            due_at = SocialSearch.objects.values_list("next_poll_at", flat=True).get(pk=self.search_ids[network])
            if (due_at is None or due_at <= now) and self.sent_for[network] != due_at:
                self.tasks[network].delay()
                self.sent_for[network] = due_at
                self.sent[network] += 1


def run_ours(beat: Beat, total: int, round_no: int) -> dict:
    """Poll until every post of the round is stored and scored; the worker is already running."""
    from django.db.models import Count, Max

    from sentiment.models import Mention

    mentions = Mention.objects.filter(pk__gt=Mention.objects.aggregate(last=Max("pk"))["last"] or 0)
    polls_before = dict(beat.sent)
    stored_at = {}

    def finished() -> bool:
        counts = dict(mentions.order_by().values("source").annotate(n=Count("pk")).values_list("source", "n"))
        stored = sum(counts.values())
        for network in NETWORKS:
            if counts.get(network, 0) >= POSTS:
                stored_at.setdefault(network, time.monotonic() - started)
        beat.tick([network for network in NETWORKS if network not in stored_at])
        scored = mentions.filter(scored_at__isnull=False).count() if stored == total else 0
        progress(f"round {round_no}: ours (stored {stored:,}, scored)", scored, total, started)
        return stored == total and scored == total

    with CpuMeter() as cpu:
        started = time.monotonic()
        wait_for(finished, "polling ingest", interval=0.2)
        elapsed = time.monotonic() - started
    sys.stderr.write("\n")
    return {"seconds": elapsed, "stored_seconds": stored_at, "stored": mentions.count(),
            "flagged": mentions.filter(flagged=True).count(), "linked": mentions.filter(incident__isnull=False).count(),
            "of_accounts": mentions.filter(account__isnull=False).count(),
            "polls": {network: beat.sent[network] - polls_before[network] for network in NETWORKS},
            "texts": list(mentions.order_by("pk").values_list("text", flat=True)),
            "cpu_busy": cpu.busy, "cpu_utilisation": cpu.utilisation}


def wait_until_idle(searches: dict) -> None:
    """Between rounds: no poll in progress (a claimed search has next_poll_at in the future)."""
    from django.utils import timezone

    from sentiment.models import SocialSearch

    def idle() -> bool:
        now = timezone.now()
        return not SocialSearch.objects.filter(pk__in=[s.pk for s in searches.values()], next_poll_at__gt=now).exists()

    wait_for(idle, "the last poll", timeout=120)


def main(var_dir: Path) -> dict:
    """ROUNDS rounds, each ours then VADER over the same texts; the round with the median ratio is reported."""
    import resource

    from tests.fakes.bluesky import FakeBluesky
    from tests.fakes.mastodon import FakeMastodon

    total = 2 * POSTS
    all_texts = texts(total)
    sys.stderr.write(f"social ingest: {POSTS:,} posts on each of a fake Mastodon and a fake Bluesky, {ROUNDS} rounds\n")
    world = customers_and_an_open_incident()
    bluesky_handles_for_the_accounts()
    rounds = []
    with FakeMastodon() as mastodon, FakeBluesky() as bluesky:
        mastodon.clock = bluesky.clock = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # during the open incident
        wanted = environment(mastodon, bluesky)
        before = {key: os.environ.get(key) for key in wanted}
        os.environ.update(wanted)
        try:
            searches = create_searches(mastodon, bluesky)
            beat = Beat(searches)
            with measured_worker(WORKER_CONCURRENCY, var_dir / "social-worker.log") as sampler:
                for round_no in range(1, ROUNDS + 1):
                    seed(mastodon, bluesky, all_texts, round_no)
                    requests_before = {"mastodon": len(mastodon.requests), "bluesky": len(bluesky.requests)}
                    ours = run_ours(beat, total, round_no)
                    ours["requests"] = {"mastodon": len(mastodon.requests) - requests_before["mastodon"],
                                        "bluesky": len(bluesky.requests) - requests_before["bluesky"]}
                    stored_texts = ours.pop("texts")
                    vader = run_vader(stored_texts, round_no)
                    ours_rate, vader_rate = total / ours["seconds"], len(stored_texts) / vader["seconds"]
                    rounds.append({"ours": ours, "vader": vader, "ours_rate": ours_rate, "vader_rate": vader_rate,
                                   "ratio": ours_rate / vader_rate})
                    wait_until_idle(searches)
        finally:
            for key, value in before.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    median = sorted(rounds, key=lambda r: r["ratio"])[len(rounds) // 2]
    result = {"posts": POSTS, "mentions": total, "worker_concurrency": WORKER_CONCURRENCY, "rounds": rounds,
              **median, "world": world, "peak_rss": sampler.peak_total, "peak_rss_single": sampler.peak_single,
              "peak_rss_bench": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}
    result["summary"] = (f"social ingest: ours {median['ours_rate']:,.0f}/s, vader {median['vader_rate']:,.0f}/s, "
                         f"ratio {median['ratio']:.2f}, stored {median['ours']['stored']}/{total}")
    return result
