"""Ingest + score + flag + store of N mentions through the bulk API, over HTTP to gunicorn as production runs it
(a running worker beside it, as in production), against a plain loop of VADER's polarity_scores over the same
texts, in the same run."""

import http.client
import json
import os
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import (
    CpuMeter,
    MemorySampler,
    free_port,
    measured_worker,
    progress,
    start_web,
    stop,
    wait_for,
    wait_for_http,
)

MENTIONS = int(os.environ.get("BENCH_MENTIONS", 50_000))
BATCH = 1000
POSTED_AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
# Web processes, and clients posting at once (external tools do not wait for each other): one per core here.
CONCURRENCY = int(os.environ.get("BENCH_INGEST_CONCURRENCY", 2))
ROUNDS = int(os.environ.get("BENCH_INGEST_ROUNDS", 3))
SLICES = 5  # per round: ours and VADER take turns (interleaved)


def texts(count: int) -> list[str]:
    """Tweet-length mentions (about 100 characters, as posts on X average): two sentences from the labelled
    fixture and a tag or a tail; a ticket number inside the first makes every text different."""
    from sentiment.evaluation import FIXTURE

    base = [json.loads(line)["text"] for line in FIXTURE.read_text().splitlines() if line]
    rng = random.Random(7)
    tails = ["", " #acme", " @acme_support", " Please fix.", " Thanks."]
    return [f"{rng.choice(base)} (ticket {n}). {rng.choice(base)}{rng.choice(tails)}" for n in range(count)]


ACCOUNTS = 500  # the authors user0 … user499 belong to customer accounts: one mention in ten


def customers_and_an_open_incident() -> dict:
    """What a real ingest links against: an open incident on three components, posted about during it, and
    customer accounts by social handle, one in five of them a key account (whose mentions are flagged)."""
    from accounts.models import Account, SocialHandle
    from incidents.choices import IncidentStatus
    from incidents.models import Component, Incident

    incident, _ = Incident.objects.get_or_create(  # once per run: the social-polling benchmark uses the same world
        title="Elevated API errors",
        defaults={"status": IncidentStatus.INVESTIGATING, "started_at": POSTED_AT - timedelta(hours=1)},
    )
    names = ("API", "Dashboard", "Webhooks")
    incident.components.set([Component.objects.get_or_create(name=name)[0] for name in names])
    if not Account.objects.filter(name="Bench customer 0").exists():
        accounts = Account.objects.bulk_create(
            Account(name=f"Bench customer {n}", tier="strategic" if n % 5 == 0 else "growth") for n in range(ACCOUNTS)
        )
        SocialHandle.objects.bulk_create(SocialHandle(account=a, handle=f"user{n}") for n, a in enumerate(accounts))
    return {"incident": incident.pk, "accounts": ACCOUNTS}


class Poster:
    """Posts request bodies to the bulk endpoint, a keep-alive connection per client thread; a request that is not
    a 200 with no item in error stops the benchmark."""

    def __init__(self, port: int, token: str):
        self.port, self.token, self.local = port, token, threading.local()

    def __call__(self, body: bytes) -> None:
        if not hasattr(self.local, "connection"):
            self.local.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        self.local.connection.request("POST", "/api/v1/mentions/bulk/", body, {
            "Authorization": f"Token {self.token}", "Content-Type": "application/json"})
        response = self.local.connection.getresponse()
        content = response.read()
        assert response.status == 200 and json.loads(content)["errors"] == 0, content[:300]


def run_ours(post: Poster, bodies: list[bytes], total: int, round_no: int) -> dict:
    """bodies: the JSON request bodies, BATCH mentions each; total: how many mentions they hold. The round ends
    when every mention it posted is stored and scored (at ingest; by the worker only if that failed)."""
    from django.db.models import Max

    from sentiment.models import Mention

    def all_scored() -> bool:
        left = mentions.filter(scored_at__isnull=True).count()  # this round's rows only, by primary key
        progress(f"round {round_no}: ours (scored)", total - left, total, started)
        return left == 0

    mentions = Mention.objects.filter(pk__gt=Mention.objects.aggregate(last=Max("pk"))["last"] or 0)
    with CpuMeter() as cpu, ThreadPoolExecutor(CONCURRENCY) as clients:
        started = time.monotonic()
        for n, _ in enumerate(clients.map(post, bodies), 1):
            progress(f"round {round_no}: ours (posted)", min(n * BATCH, total), total, started)
        posted = time.monotonic() - started
        sys.stderr.write("\n")
        wait_for(all_scored, "scoring", interval=0.25)
        elapsed = time.monotonic() - started
    sys.stderr.write("\n")
    return {"seconds": elapsed, "post_seconds": posted, "stored": mentions.count(),
            "flagged": mentions.filter(flagged=True).count(), "linked": mentions.filter(incident__isnull=False).count(),
            "of_accounts": mentions.filter(account__isnull=False).count(),
            "cpu_busy": cpu.busy, "cpu_utilisation": cpu.utilisation}


def run_vader(all_texts: list[str], round_no: int) -> dict:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    started = time.monotonic()
    for n, text in enumerate(all_texts, 1):
        analyzer.polarity_scores(text)
        if n % 5000 == 0:
            progress(f"round {round_no}: vader", n, len(all_texts), started)
    elapsed = time.monotonic() - started
    sys.stderr.write("\n")
    return {"seconds": elapsed}


def interleaved(post: Poster, bodies: list[bytes], all_texts: list[str], round_no: int) -> tuple[dict, dict]:
    """Ours and VADER in turns over SLICES slices of the texts, each slice's runs moments apart, and their sums:
    this machine's speed drifts by a quarter within seconds, and a round of two long runs measured the drift."""
    per_slice = len(bodies) // SLICES
    ours, vader = [], []
    for n in range(SLICES):
        part = bodies[n * per_slice : (n + 1) * per_slice if n < SLICES - 1 else None]
        texts_of_part = all_texts[n * per_slice * BATCH : (n + 1) * per_slice * BATCH if n < SLICES - 1 else None]
        ours.append(run_ours(post, part, len(texts_of_part), round_no))
        vader.append(run_vader(texts_of_part, round_no))
        analyze_mentions()
    summed = {key: sum(part[key] for part in ours) for key in ours[0] if key != "cpu_utilisation"}
    summed["cpu_utilisation"] = sum(p["cpu_utilisation"] * p["seconds"] for p in ours) / summed["seconds"]
    return summed, {"seconds": sum(part["seconds"] for part in vader)}


def analyze_mentions() -> None:
    """What autovacuum does on a production server after each tenth of a table changes, between slices here: this
    machine's PostgreSQL runs with autovacuum off, and on a table its planner believes empty it reads every stored
    mention to find a batch's 1,000 ids (30 ms a request at 100,000 mentions, instead of 2 ms)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sentiment_mention")


def bodies_for(all_texts: list[str], round_no: int) -> list[bytes]:
    items = [
        {"external_id": f"r{round_no}-{n}", "text": text, "posted_at": POSTED_AT.isoformat(),
         "author_handle": f"user{n % 5000}", "author_followers": n % 20000}
        for n, text in enumerate(all_texts)
    ]
    return [json.dumps(items[start : start + BATCH]).encode() for start in range(0, len(items), BATCH)]


def main(var_dir: Path) -> dict:
    """ROUNDS rounds, each ours and VADER in turns over the same texts (interleaved); the round with the median
    ratio is reported."""
    import resource

    from django.contrib.auth.models import Group
    from knox.models import AuthToken

    from tests.factories import UserFactory

    all_texts = texts(MENTIONS)
    sys.stderr.write(f"ingest: {MENTIONS:,} mentions in {MENTIONS // BATCH} requests of {BATCH:,}, {ROUNDS} rounds, "
                     f"{CONCURRENCY} web processes and clients\n")
    world = customers_and_an_open_incident()
    tool = UserFactory(username=f"bench-tool-{time.time_ns()}")
    tool.groups.add(Group.objects.get(name="Support"))
    _, token = AuthToken.objects.create(tool)
    port = free_port()
    web = start_web("config.wsgi", port, CONCURRENCY, var_dir / "ingest-web.log")
    rounds = []
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz")
        web_memory = MemorySampler(web.pid)
        web_memory.start()
        with measured_worker(CONCURRENCY, var_dir / "ingest-worker.log") as sampler:
            for round_no in range(1, ROUNDS + 1):
                ours, vader = interleaved(Poster(port, token), bodies_for(all_texts, round_no), all_texts, round_no)
                ours_rate, vader_rate = MENTIONS / ours["seconds"], MENTIONS / vader["seconds"]
                rounds.append({"ours": ours, "vader": vader, "ours_rate": ours_rate, "vader_rate": vader_rate,
                               "ratio": ours_rate / vader_rate})
        web_memory.stop()
    finally:
        stop(web)
    median = sorted(rounds, key=lambda r: r["ratio"])[len(rounds) // 2]
    result = {"mentions": MENTIONS, "concurrency": CONCURRENCY, "rounds": rounds, **median,
              "world": world, "peak_rss": sampler.peak_total, "peak_rss_single": sampler.peak_single,
              "peak_rss_web": web_memory.peak_total, "peak_rss_web_single": web_memory.peak_single,
              "peak_rss_bench": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}
    result["summary"] = (f"ingest: ours {median['ours_rate']:,.0f}/s, vader {median['vader_rate']:,.0f}/s, "
                         f"ratio {median['ratio']:.2f}")
    return result
