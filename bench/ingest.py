"""Ingest + score + flag + store of N mentions through the bulk API path and real workers, against a plain
loop of VADER's polarity_scores over the same texts, in the same run."""

import json
import os
import random
import sys
import time
from pathlib import Path

from bench.common import measured_worker, progress, wait_for

MENTIONS = int(os.environ.get("BENCH_MENTIONS", 50_000))
BATCH = 1000
WORKER_CONCURRENCY = int(os.environ.get("BENCH_INGEST_CONCURRENCY", 2))


def texts(count: int) -> list[str]:
    """Tweet-length mentions (about 100 characters, as posts on X average): two sentences from the labelled
    fixture and a tag or a tail; a ticket number inside the first makes every text different."""
    from sentiment.evaluation import FIXTURE

    base = [json.loads(line)["text"] for line in FIXTURE.read_text().splitlines() if line]
    rng = random.Random(7)
    tails = ["", " #acme", " @acme_support", " Please fix.", " Thanks."]
    return [f"{rng.choice(base)} (ticket {n}). {rng.choice(base)}{rng.choice(tails)}" for n in range(count)]


def run_ours(bodies: list[str], total: int, var_dir: Path) -> dict:
    """bodies: the JSON request bodies, BATCH mentions each; total: how many mentions they hold."""
    from django.contrib.auth.models import Group
    from rest_framework.test import APIClient

    from sentiment.models import Mention
    from tests.factories import UserFactory

    tool = UserFactory(username=f"bench-tool-{time.time_ns()}")
    tool.groups.add(Group.objects.get(name="Support"))
    client = APIClient()
    client.force_authenticate(tool)
    def all_scored() -> bool:
        scored = Mention.objects.filter(scored_at__isnull=False).count()
        progress("ours (scored)", scored, total, started)
        return scored >= total

    with measured_worker(WORKER_CONCURRENCY, var_dir / "ingest-worker.log") as sampler:
        started = time.monotonic()
        for n, body in enumerate(bodies, 1):
            response = client.post("/api/v1/mentions/bulk/", body, content_type="application/json")
            assert response.status_code == 200 and response.json()["errors"] == 0, response.content[:300]
            progress("ours (posted)", min(n * BATCH, total), total, started)
        posted = time.monotonic() - started
        sys.stderr.write("\n")
        wait_for(all_scored, "scoring", interval=0.25)
        elapsed = time.monotonic() - started
    sys.stderr.write("\n")
    flagged = Mention.objects.filter(flagged=True).count()
    return {"seconds": elapsed, "post_seconds": posted, "stored": Mention.objects.count(), "flagged": flagged,
            "peak_rss": sampler.peak_total, "peak_rss_single": sampler.peak_single}


def run_vader(all_texts: list[str]) -> dict:
    import resource

    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    started = time.monotonic()
    for n, text in enumerate(all_texts, 1):
        analyzer.polarity_scores(text)
        if n % 5000 == 0:
            progress("vader", n, len(all_texts), started)
    elapsed = time.monotonic() - started
    sys.stderr.write("\n")
    return {"seconds": elapsed, "peak_rss_process": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}


def main(var_dir: Path) -> dict:
    all_texts = texts(MENTIONS)
    items = [
        {"external_id": f"bench-{n}", "text": text, "posted_at": "2026-11-23T10:00:00Z",
         "author_handle": f"user{n % 5000}", "author_followers": n % 20000}
        for n, text in enumerate(all_texts)
    ]
    bodies = [json.dumps(items[start : start + BATCH]) for start in range(0, len(items), BATCH)]
    sys.stderr.write(f"ingest: {MENTIONS:,} mentions in {len(bodies)} requests of {BATCH:,}\n")
    ours = run_ours(bodies, MENTIONS, var_dir)
    vader = run_vader(all_texts)
    ours_rate, vader_rate = MENTIONS / ours["seconds"], MENTIONS / vader["seconds"]
    result = {"mentions": MENTIONS, "worker_concurrency": WORKER_CONCURRENCY, "ours": ours, "vader": vader,
              "ours_rate": ours_rate, "vader_rate": vader_rate, "ratio": ours_rate / vader_rate}
    result["summary"] = f"ingest: ours {ours_rate:,.0f}/s, vader {vader_rate:,.0f}/s, ratio {result['ratio']:.2f}"
    return result
