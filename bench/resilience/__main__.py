"""`make resilience`: break things on purpose while real processes deliver, count what arrived, record it.

Real PostgreSQL (a throw-away database `ears_resilience` on the server of DATABASE_URL), a private redis-server
(port 6390, or a free one; no persistence) so that restarting it disturbs no one, real `celery worker` and
`celery beat` processes, a local SMTP sink that counts every copy per delivery, and a local fake of the X API
behind tweepy. Prints the counts of each scenario, rewrites the figures in docs/reliability.md and exits 1 when
any expectation did not hold. ingest-flood measures instead how much later an update goes out while a flood of
mentions is ingested (the Procfile's workers; --mentions, --subscribers and --flood-posters set its sizes).
subscriber-webhook-outage, social-network-outage and bluesky-outage (bench/resilience/outages.py) take the far
side down instead: every subscriber webhook (--endpoints), or the Mastodon instance, or Bluesky, answers 503 and
then refuses connections for a stretch before it recovers.
"""

import argparse
import datetime
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, bench_database_url, machine

SCENARIOS = ("worker-killed", "broker-restart", "channel-outage", "database-blip", "beat-twice", "ingest-flood",
             "subscriber-webhook-outage", "social-network-outage", "bluesky-outage")
OWN_BLOCKS = (  # recorded in a block of their own
    "ingest-flood", "subscriber-webhook-outage", "social-network-outage", "bluesky-outage")


def configure(redis_url: str, var_dir: Path) -> None:
    os.environ["DATABASE_URL"] = bench_database_url("ears_resilience")
    os.environ["REDIS_URL"] = redis_url
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "resilience-" + "x" * 60)
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    os.environ["VAR_DIR"] = str(var_dir)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def run(name: str, args, redis, var_dir: Path, incident, say):
    from bench.resilience import outages, scenarios
    from bench.resilience.harness import Harness

    n = args.subscribers
    harness = Harness(os.environ["DATABASE_URL"], var_dir, redis, concurrency=args.concurrency,
                      sweep_seconds=args.sweep_seconds)
    try:
        if name == "worker-killed":
            return scenarios.worker_killed(harness, incident, n)
        if name == "broker-restart":
            return scenarios.broker_restart(harness, incident, n, recovery_bound=recovery_bound(args))
        if name == "channel-outage":
            return scenarios.channel_outage(harness, incident, n, refused=20, outage_seconds=10)
        if name == "database-blip":
            return scenarios.database_blip(harness, incident, n)
        if name == "beat-twice":
            return scenarios.beat_twice(harness, incident, n, messages=3, spacing=3)
        if name == "ingest-flood":
            return scenarios.ingest_flood(harness, incident, n, args.mentions, posters=args.flood_posters,
                                          ingest_concurrency=args.ingest_concurrency, ingest_nice=args.ingest_nice)
        if name == "subscriber-webhook-outage":
            return outages.subscriber_webhook_outage(harness, incident, endpoint_kinds(args.endpoints), dead=3,
                                                     unavailable_seconds=15, refused_seconds=5)
        if name == "social-network-outage":
            return outages.social_network_outage(harness, incident, updates=3, spacing=3, unavailable_seconds=15,
                                                 refused_seconds=5)
        if name == "bluesky-outage":
            return outages.social_network_outage(harness, incident, updates=3, spacing=3, unavailable_seconds=15,
                                                 refused_seconds=5, network="bluesky")
        raise ValueError(name)
    finally:
        harness.close()
        if harness.tracebacks():
            say(f"  (tracebacks in the process logs under {var_dir})")


def endpoint_kinds(endpoints: int) -> dict[str, int]:
    """Subscriber webhooks by kind: a tenth each Slack and Discord, the rest generic."""
    chats = endpoints // 10
    return {"webhook": endpoints - 2 * chats, "slack": chats, "discord": chats}


def recovery_bound(args) -> float:
    """The documented longest time a delivery may stay claimed by a dead worker: the grace, one sweep interval,
    and the longest a batch takes to send (10 s here)."""
    from comms.delivery.sweep import DEAD_CLAIM_GRACE_SECONDS

    return DEAD_CLAIM_GRACE_SECONDS + (args.sweep_seconds or 30) + 10


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=SCENARIOS, action="append", help="Run only these (repeatable).")
    parser.add_argument("--subscribers", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=4, help="worker --concurrency (default 4; ingest-flood: "
                        "the deliveries worker's)")
    parser.add_argument("--mentions", type=int, default=200_000, help="ingest-flood: mentions in the flood")
    parser.add_argument("--ingest-nice", type=int, default=10,
                        help="ingest-flood: lower that worker's CPU priority by this much (nice and, on Linux, its "
                             "session's autogroup; default 10, as in the Procfile; 0: not lowered)")
    parser.add_argument("--flood-posters", type=int, default=2,
                        help="ingest-flood: processes posting the flood to the bulk API side by side (default 2)")
    parser.add_argument("--ingest-concurrency", type=int, default=2,
                        help="ingest-flood: --concurrency of the worker for the default and ingest queues (default 2)")
    parser.add_argument("--endpoints", type=int, default=240,
                        help="subscriber-webhook-outage: subscriber webhooks (a tenth each Slack and Discord, the "
                             "rest generic; default 240)")
    parser.add_argument("--sweep-seconds", type=float, default=None,
                        help="run sweep_deliveries this often instead of beat's 30 s")
    parser.add_argument("--no-record", action="store_true",
                        help="Print only; do not rewrite docs/reliability.md (a run with --only rewrites only the "
                             "figures of the scenarios with a block of their own that ran: ingest-flood, "
                             "subscriber-webhook-outage, social-network-outage).")
    args = parser.parse_args()
    chosen = args.only or list(SCENARIOS)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the harness's processes on the way out

    from bench.resilience.harness import PrivateRedis

    var_dir = Path(tempfile.mkdtemp(prefix="resilience-", dir=ROOT / "var" if (ROOT / "var").is_dir() else None))
    redis = PrivateRedis(var_dir, port=6390).start()
    results = []
    try:
        configure(redis.url, var_dir)
        from bench.fanout import seed

        def say(text: str) -> None:
            print(text, flush=True)

        started = datetime.datetime.now(datetime.UTC)
        args.load_before = os.getloadavg()[0]
        say(f"resilience: seeding {args.subscribers:,} confirmed subscribers; private Redis at {redis.url}; "
            f"process logs in {var_dir}")
        incident = seed(args.subscribers).incident
        from django.conf import settings

        from comms import delivery

        say(
            f"resilience: sweeper every {args.sweep_seconds or 30:g} s, dead-claim grace "
            f"{delivery.sweep.DEAD_CLAIM_GRACE_SECONDS:g} s, "
            f"CELERY_TASK_TIME_LIMIT {settings.CELERY_TASK_TIME_LIMIT} s "
            "(not shortened: no recovery waits for it)"
        )
        for name in chosen:
            began = time.monotonic()
            result = run(name, args, redis, var_dir, incident, say)
            result.facts["scenario took"] = f"{time.monotonic() - began:.0f} s"
            results.append((name, result))
            say(result.report())
    finally:
        redis.stop()
    failed = [(name, r) for name, r in results if r.failures]
    if not args.no_record:
        from bench.resilience.record import record, record_flood, record_outage

        faults = [(name, result) for name, result in results if name not in OWN_BLOCKS]
        if not args.only:
            record(ROOT / "docs" / "reliability.md", faults, started, machine(), args)
        for name, result in results:
            if name == "ingest-flood":
                record_flood(ROOT / "docs" / "reliability.md", result, started, machine(), args)
            elif name in OWN_BLOCKS:
                record_outage(ROOT / "docs" / "reliability.md", name, result, started, machine(), args)
        if any(name in OWN_BLOCKS for name, _ in results) or not args.only:
            print("recorded in docs/reliability.md", file=sys.stderr)
    if failed:
        print(
            f"resilience: {len(failed)} scenario(s) did not hold: "
            + ", ".join(n for n, _ in failed)
            + f"; the process logs are in {var_dir}",
            file=sys.stderr,
        )
        sys.exit(1)
    shutil.rmtree(var_dir, ignore_errors=True)  # kept only when something did not hold
    print(f"resilience: all {len(results)} scenarios held")


if __name__ == "__main__":
    main()
