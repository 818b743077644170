"""Ingest + score + flag + store of N mentions through the bulk API path and real workers, against a plain
loop of VADER's polarity_scores over the same texts, in the same run."""

import json
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import CpuMeter, measured_worker, progress, wait_for

MENTIONS = int(os.environ.get("BENCH_MENTIONS", 50_000))
BATCH = 1000
POSTED_AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
WORKER_CONCURRENCY = int(os.environ.get("BENCH_INGEST_CONCURRENCY", 2))
ROUNDS = int(os.environ.get("BENCH_INGEST_ROUNDS", 3))


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


def run_ours(client, bodies: list[str], total: int, round_no: int) -> dict:
    """bodies: the JSON request bodies, BATCH mentions each; total: how many mentions they hold. The worker is
    already running; the round ends when every mention it posted is scored."""
    from django.db.models import Max

    from sentiment.models import Mention

    def all_scored() -> bool:
        left = mentions.filter(scored_at__isnull=True).count()  # this round's rows only, by primary key
        progress(f"round {round_no}: ours (scored)", total - left, total, started)
        return left == 0

    mentions = Mention.objects.filter(pk__gt=Mention.objects.aggregate(last=Max("pk"))["last"] or 0)
    with CpuMeter() as cpu:
        started = time.monotonic()
        for n, body in enumerate(bodies, 1):
            response = client.post("/api/v1/mentions/bulk/", body, content_type="application/json")
            assert response.status_code == 200 and response.json()["errors"] == 0, response.content[:300]
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


def bodies_for(all_texts: list[str], round_no: int) -> list[str]:
    items = [
        {"external_id": f"r{round_no}-{n}", "text": text, "posted_at": POSTED_AT.isoformat(),
         "author_handle": f"user{n % 5000}", "author_followers": n % 20000}
        for n, text in enumerate(all_texts)
    ]
    return [json.dumps(items[start : start + BATCH]) for start in range(0, len(items), BATCH)]


def main(var_dir: Path) -> dict:
    """ROUNDS rounds, each ours then VADER over the same texts; the round with the median ratio is reported (the
    machine's speed drifts over seconds, so each ratio compares runs made moments apart)."""
    import resource

    from django.contrib.auth.models import Group
    from rest_framework.test import APIClient

    from tests.factories import UserFactory

    all_texts = texts(MENTIONS)
    sys.stderr.write(f"ingest: {MENTIONS:,} mentions in {MENTIONS // BATCH} requests of {BATCH:,}, {ROUNDS} rounds\n")
    world = customers_and_an_open_incident()
    tool = UserFactory(username=f"bench-tool-{time.time_ns()}")
    tool.groups.add(Group.objects.get(name="Support"))
    client = APIClient()
    client.force_authenticate(tool)
    rounds = []
    with measured_worker(WORKER_CONCURRENCY, var_dir / "ingest-worker.log") as sampler:
        for round_no in range(1, ROUNDS + 1):
            ours = run_ours(client, bodies_for(all_texts, round_no), MENTIONS, round_no)
            vader = run_vader(all_texts, round_no)
            ours_rate, vader_rate = MENTIONS / ours["seconds"], MENTIONS / vader["seconds"]
            rounds.append({"ours": ours, "vader": vader, "ours_rate": ours_rate, "vader_rate": vader_rate,
                           "ratio": ours_rate / vader_rate})
    median = sorted(rounds, key=lambda r: r["ratio"])[len(rounds) // 2]
    result = {"mentions": MENTIONS, "worker_concurrency": WORKER_CONCURRENCY, "rounds": rounds, **median,
              "world": world, "peak_rss": sampler.peak_total, "peak_rss_single": sampler.peak_single,
              "peak_rss_bench": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}
    result["summary"] = (f"ingest: ours {median['ours_rate']:,.0f}/s, vader {median['vader_rate']:,.0f}/s, "
                         f"ratio {median['ratio']:.2f}")
    return result
